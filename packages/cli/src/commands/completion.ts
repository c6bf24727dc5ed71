// Shell completion. yargs completes (commands, flags, choices) when asked with
// `--get-yargs-completions WORDS…`; these scripts ask it. yargs formats its answer for the shell
// named by $SHELL when the parser is built (zsh: name:description, fish: name<TAB>description),
// so the scripts say which shell they are and the answer is built for that shell, whatever the
// user's login shell is.
import type { Session } from '../session.js'
import { CliError, EXIT } from '../errors.js'

export const SHELLS = ['bash', 'zsh', 'fish'] as const
export type Shell = typeof SHELLS[number]

/** The variable the scripts set to name their shell. */
export const COMPLETE_ENV = 'GLUSTER_TS_COMPLETE'

function script (shell: Shell): string {
  if (shell === 'bash') {
    return `###-begin-gluster-ts-completions-###
# bash completion for gluster-ts: eval "$(gluster-ts completion bash)" in ~/.bashrc,
# or save it as /etc/bash_completion.d/gluster-ts
_gluster_ts_completions () {
  local cur="\${COMP_WORDS[COMP_CWORD]}" IFS=$'\\n'
  COMPREPLY=($(compgen -W "$(${COMPLETE_ENV}=bash gluster-ts --get-yargs-completions "\${COMP_WORDS[@]:0:COMP_CWORD+1}" 2>/dev/null)" -- "$cur"))
}
complete -o bashdefault -o default -F _gluster_ts_completions gluster-ts
###-end-gluster-ts-completions-###
`
  }
  if (shell === 'zsh') {
    return `#compdef gluster-ts
###-begin-gluster-ts-completions-###
# zsh completion for gluster-ts: save as _gluster-ts in a directory of $fpath,
# or eval "$(gluster-ts completion zsh)" in ~/.zshrc after compinit
_gluster_ts_completions () {
  local -a reply
  reply=("\${(@f)$(${COMPLETE_ENV}=zsh gluster-ts --get-yargs-completions "\${(@)words[1,CURRENT]}" 2>/dev/null)}")
  reply=(\${reply:#})
  if (( \${#reply} )); then _describe 'values' reply; else _default; fi
}
if [[ "\${zsh_eval_context[-1]}" == loadautofunc ]]; then
  _gluster_ts_completions "$@"
else
  compdef _gluster_ts_completions gluster-ts
fi
###-end-gluster-ts-completions-###
`
  }
  return `###-begin-gluster-ts-completions-###
# fish completion for gluster-ts: gluster-ts completion fish > ~/.config/fish/completions/gluster-ts.fish
complete -c gluster-ts -f -a '(env ${COMPLETE_ENV}=fish gluster-ts --get-yargs-completions (commandline -opc) (commandline -ct))'
###-end-gluster-ts-completions-###
`
}

/** completion [bash|zsh|fish]: without a name, the shell $SHELL names (bash when it names none of them). */
export async function completion (s: Session, shell: string | undefined): Promise<number> {
  const name = shell ?? SHELLS.find(x => (s.io.env.SHELL ?? '').endsWith(`/${x}`) || s.io.env.SHELL === x) ?? 'bash'
  if (!(SHELLS as readonly string[]).includes(name)) throw new CliError('EUSAGE', `no completion for the shell '${name}' (bash, zsh or fish)`)
  s.out(script(name as Shell))
  return EXIT.OK
}

/** The $SHELL value that makes yargs format completions for this shell. */
export function yargsShellEnv (shell: string | undefined): string {
  return shell === 'zsh' ? '/bin/zsh' : shell === 'fish' ? '/usr/bin/fish' : '/bin/bash'
}

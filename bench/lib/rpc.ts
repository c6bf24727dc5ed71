// The package under test. The workspace root does not list @gluster-ts/rpc as a dependency, so
// the bare specifier does not resolve from bench/ (ERR_MODULE_NOT_FOUND). Once the root
// package.json has `"@gluster-ts/rpc": "workspace:*"`, replace this path with '@gluster-ts/rpc'.
export * from '../../packages/rpc/src/index.js'

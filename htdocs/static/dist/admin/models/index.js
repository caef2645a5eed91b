/*
 * The admin's model descriptor and page modules, one line each (paths relative to this folder).
 * The shell imports each on its own, so one that fails to load is logged and the rest still work.
 */
export default [
	'../pages/dashboard.js',
	'./directory.js',
	'./applications.js',
	'./providers.js',
	'./policies.js',
	'./crypto.js',
	'./flows.js',
	'./stages.js',
	'./system.js',
	'./events.js',
	'./rbac.js',
];

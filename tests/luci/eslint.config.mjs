// ESLint 9 flat config for the LuCI views of luci-app-route53-ddns.
//
// LuCI loads a view file as the body of a function: the `'require x'` lines
// become parameters named after the module (`'require tools.widgets as
// widgets'` -> widgets) and the file ends in a top-level `return`. Hence
// globalReturn, and the LuCI runtime names as read-only globals.
import js from '@eslint/js';

const luciGlobals = {
	// luci.js runtime
	L: 'readonly', _: 'readonly', N_: 'readonly', E: 'readonly',
	// classes named by 'require' lines
	baseclass: 'readonly', dom: 'readonly', form: 'readonly', fs: 'readonly', network: 'readonly',
	poll: 'readonly', request: 'readonly', rpc: 'readonly', uci: 'readonly', ui: 'readonly',
	validation: 'readonly', view: 'readonly', widgets: 'readonly',
	// the app's own modules (luci-static/resources/route53-ddns/*.js)
	checks: 'readonly', r53key: 'readonly', r53status: 'readonly',
	// browser
	window: 'readonly', document: 'readonly', navigator: 'readonly', console: 'readonly',
	URL: 'readonly', TextEncoder: 'readonly', Promise: 'readonly', Node: 'readonly'
};

const views = [ 'openwrt/luci-app-route53-ddns/htdocs/**/*.js' ];

export default [
	// run from the repository root (tests/luci/run-eslint.sh): paths are relative to it
	{ ...js.configs.recommended, files: views },
	{
		files: views,
		languageOptions: {
			ecmaVersion: 2020,
			sourceType: 'script',
			parserOptions: { ecmaFeatures: { globalReturn: true } },
			globals: luciGlobals
		},
		rules: {
			'no-unused-vars': [ 'error', { args: 'none' } ],
			'no-var': 'error',
			'prefer-const': 'error',
			'no-eval': 'error',
			'no-implied-eval': 'error',
			'no-new-func': 'error',
			'no-console': 'error',
			'no-alert': 'error',
			'no-restricted-syntax': [ 'error', {
				selector: "AssignmentExpression[left.property.name='innerHTML']",
				message: 'Build DOM with E(); never assign innerHTML (status text comes from the network).'
			} ],
			strict: [ 'error', 'global' ]
		}
	}
];

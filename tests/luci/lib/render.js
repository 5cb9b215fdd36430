#!/usr/bin/env node
/*
 * Renders a view of luci-app-route53-ddns in headless Debian Chromium on top of
 * the stand-in runtime (lib/luci-stub.js, harness/index.html), performs the
 * scenario's actions and prints what a user would see as JSON.
 *
 * usage: node render.js SCENARIO.json
 * scenario: { view: 'status'|'settings', uci: {...}, rpc: {'obj.method': answer},
 *             status_after_update: {...}, viewport: {width, height}, screenshot: path,
 *             actions: ['update', 'copy-command', 'copy-key', 'type:NAME=VALUE', 'fits:NAME=VALUE', ...] }
 */
'use strict';

const fs = require('fs');
const http = require('http');
const path = require('path');
const { chromium } = require('playwright-core');

const REPO = path.resolve(__dirname, '..', '..', '..');
const CHROMIUM_FLAGS = [ '--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
	'--disable-background-networking', '--disable-component-update', '--disable-sync' ];

const TYPES = { '.html': 'text/html', '.js': 'application/javascript', '.css': 'text/css' };

/* Serves tests/luci/ and the app's htdocs (read-only) on 127.0.0.1 only. */
function serve() {
	const roots = {
		'/tests/luci/': path.join(REPO, 'tests', 'luci'),
		'/app/': path.join(REPO, 'openwrt', 'luci-app-route53-ddns', 'htdocs')
	};
	const server = http.createServer((req, res) => {
		const url = decodeURIComponent(req.url.split('?')[0]);
		const prefix = Object.keys(roots).find((p) => url.startsWith(p));
		const file = prefix ? path.join(roots[prefix], url.slice(prefix.length)) : null;
		if (!file || !file.startsWith(roots[prefix]) || file.includes('node_modules') || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
			res.writeHead(404);
			return res.end('not found');
		}
		res.writeHead(200, { 'Content-Type': TYPES[path.extname(file)] || 'application/octet-stream' });
		fs.createReadStream(file).pipe(res);
	});
	return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

async function main() {
	const scenario = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
	const server = await serve();
	const base = 'http://127.0.0.1:%d'.replace('%d', server.address().port);
	const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_FLAGS, headless: true });
	const facts = { errors: [] };

	try {
		const context = await browser.newContext({
			viewport: scenario.viewport || { width: 1280, height: 900 },
			permissions: [ 'clipboard-read', 'clipboard-write' ]
		});
		const page = await context.newPage();
		page.on('pageerror', (e) => facts.errors.push(String(e)));
		page.on('console', (m) => { if (m.type() == 'error') facts.errors.push(m.text()); });

		await page.goto(base + '/tests/luci/harness/index.html');
		await page.evaluate(async (sc) => {
			const state = { status: sc.rpc['luci.route53-ddns.status'] };
			const rpc = Object.assign({}, sc.rpc, {
				'luci.route53-ddns.status': () => JSON.parse(JSON.stringify(state.status)),
				'luci.route53-ddns.update': () => {
					if (sc.status_after_update)
						state.status = sc.status_after_update;
					return sc.rpc['luci.route53-ddns.update'] || { started: true };
				}
			});
			window.luci = window.makeLuci({ document: document, uci: sc.uci, rpc: rpc, networks: sc.networks });
			const fetchText = async (name) => {
				const url = '/app/luci-static/resources/' + name.replace(/\./g, '/') + '.js';
				const res = await fetch(url);
				if (!res.ok)
					throw new Error('HTTP error ' + res.status + ' while loading class file ' + url);
				return res.text();
			};
			const src = await fetchText('view.route53-ddns.' + sc.view);
			/* the app's own modules, fetched from the URL luci.js asks for */
			for (const m of src.matchAll(/^'require (route53-ddns\.[\w-]+)(?: as \w+)?';$/mg))
				window.luci.loadModule(m[1], await fetchText(m[1]));
			const res = await window.luci.runView(src);
			window.theView = res.view;
			document.getElementById('maincontent').appendChild(res.node);
		}, scenario);

		for (const action of scenario.actions || []) {
			if (action == 'update') {
				await page.click('button.r53-update-now');
				await page.waitForFunction(() => window.luci.log.rpc.filter((x) => x == 'luci.route53-ddns.status').length >= 2);
			}
			else if (action == 'click-update') {
				await page.click('button.r53-update-now');
				await page.waitForFunction(() => window.luci.log.notifications.length > 0 ||
					Array.from(document.querySelectorAll('.r53-banner')).some((b) => b.textContent != ''));
			}
			else if (action == 'copy-command' || action == 'copy-key') {
				const idx = action == 'copy-key' ? 0 : 1;
				await page.locator('button.r53-copy').nth(idx).click();
				await page.waitForFunction((i) => document.querySelectorAll('button.r53-copy')[i].textContent == 'Copied', idx);
				facts[action] = await page.evaluate(() => navigator.clipboard.readText());
			}
			else if (action.startsWith('value:')) {
				facts[action] = await page.evaluate((n) => document.querySelector('[name="' + n + '"]').value, action.slice(6));
			}
			else if (action.startsWith('fits:')) {
				/* does the value show whole in its field (no text scrolled out of view)? */
				const m = action.match(/^fits:([^=]+)=(.*)$/);
				const sel = '[name="%s"]'.replace('%s', m[1]);
				await page.fill(sel, m[2]);
				facts[action] = await page.evaluate((s) => {
					const el = document.querySelector(s);
					return { scroll: el.scrollWidth, client: el.clientWidth };
				}, sel);
			}
			else if (action.startsWith('type:')) {
				const m = action.match(/^type:([^=]+)=(.*)$/);
				const sel = '[name="%s"]'.replace('%s', m[1]);
				await page.fill(sel, m[2]);
				facts[action] = await page.evaluate((s) => {
					const el = document.querySelector(s);
					return { invalid: el.classList.contains('cbi-input-invalid'), tooltip: el.getAttribute('data-tooltip') };
				}, sel);
			}
		}

		Object.assign(facts, await page.evaluate(() => {
			const q = (s) => Array.from(document.querySelectorAll(s));
			const text = (s) => q(s).map((e) => e.textContent.replace(/\s+/g, ' ').trim());
			return {
				title: text('h2')[0],
				hosts: q('tr.r53-host').map((tr) => ({
					name: tr.getAttribute('data-host'),
					cells: Array.from(tr.children).map((td) => ({ title: td.getAttribute('data-title'), text: td.textContent.replace(/\s+/g, ' ').trim() }))
				})),
				nat_warnings: text('.r53-nat'),
				diagnoses: text('.r53-diagnosis'),
				banners: text('.r53-banner').filter((t) => t != ''),
				next_key: text('.r53-next-keyid')[0] || null,
				next_command: text('.r53-provision-next')[0] || null,
				old_key: text('.r53-old-key')[0] || null,
				old_remove: text('.r53-remove-old')[0] || null,
				/* text and background of each badge, as computed by the browser */
				badges: q('.label.r53-result').map((e) => {
					const cs = getComputedStyle(e);
					return { text: e.textContent, color: cs.color, background: cs.backgroundColor };
				}),
				errors_shown: text('.r53-error'),
				config_error: text('.r53-config-error'),
				backend_error: text('.r53-backend-error'),
				summary: text('.r53-summary tr'),
				key_id: text('.r53-keyid')[0] || null,
				command: text('.r53-provision')[0] || null,
				key_section: text('#r53-key')[0] || null,
				notifications: window.luci.log.notifications,
				rpc_calls: window.luci.log.rpc,
				polls: window.luci.log.polls.map((p) => p.interval),
				inputs: q('[name^="cbid."]').map((e) => e.getAttribute('name')),
				option_titles: text('.cbi-value-title, .cbi-section-table-titles th'),
				injected_nodes: q('[id^="xss"]').length,
				page_width: document.documentElement.scrollWidth,
				viewport_width: window.innerWidth,
				body_text: document.body.textContent.replace(/\s+/g, ' ')
			};
		}));

		if (scenario.screenshot)
			await page.screenshot({ path: scenario.screenshot, fullPage: true });
	}
	finally {
		await browser.close();
		server.close();
	}

	process.stdout.write(JSON.stringify(facts, null, 1) + '\n');
}

main().catch((e) => {
	process.stderr.write(String(e && e.stack || e) + '\n');
	process.exit(1);
});

#!/usr/bin/env node
/*
 * Loads the settings view with the stand-in runtime and prints, as JSON,
 * every UCI option it declares: section type, option name, widget, datatype,
 * default, list of allowed values, rmempty/optional, dependencies.
 *
 * With a samples file (JSON {"<section type>.<option>": ["value", ...]}), it
 * also prints the page's verdict for each value: true, or the error text the
 * page would show. tests/system/test_luci_schema.py compares both with the
 * binary's `route53-ddns schema` and `route53-ddns check`.
 *
 * usage: node extract.js VIEW.js [SAMPLES.json]
 */
'use strict';

const fs = require('fs');
const path = require('path');
const { makeLuci } = require('./luci-stub.js');

function main() {
	const viewFile = process.argv[2];
	const samplesFile = process.argv[3];
	const luci = makeLuci({ uci: { 'route53-ddns': [
		{ '.name': 'global', '.type': 'global' },
		{ '.name': 'cfg01', '.type': 'host', name: 'existing.example.com' }
	] } });

	const source = fs.readFileSync(viewFile, 'utf8');
	/* the app's own modules, from luci-static/resources/ as luci.js loads them */
	const resources = path.resolve(path.dirname(viewFile), '..', '..');
	for (const m of source.matchAll(/^'require (route53-ddns\.[\w-]+)(?: as \w+)?';$/mg))
		luci.loadModule(m[1], fs.readFileSync(path.join(resources, m[1].replace(/\./g, '/') + '.js'), 'utf8'));

	return luci.runView(source).then((res) => {
		const map = res.node;
		const out = { config: map.config, sections: [] };
		const byKey = {};

		map.sections.forEach((s) => {
			const sec = {
				widget: s.kind,
				type: s.sectiontype,
				name: s.kind == 'NamedSection' ? s.section : null,
				anonymous: !!s.anonymous || s.kind != 'NamedSection',
				addremove: !!s.addremove,
				options: []
			};
			s.children.forEach((o) => {
				sec.options.push({
					name: o.option,
					widget: o.__widget__,
					datatype: o.datatype || null,
					default: o.default != null ? String(o.default) : null,
					placeholder: o.placeholder != null ? String(o.placeholder) : null,
					values: o.keylist.length ? o.keylist : null,
					rmempty: o.rmempty,
					optional: o.optional,
					has_validate: typeof o.validate == 'function',
					depends: o.deplist,
					has_description: !!o.description
				});
				byKey[s.sectiontype + '.' + o.option] = { o: o, sid: s.kind == 'NamedSection' ? s.section : 'cfg99' };
			});
			out.sections.push(sec);
		});

		if (samplesFile) {
			const samples = JSON.parse(fs.readFileSync(samplesFile, 'utf8'));
			out.verdicts = {};
			Object.keys(samples).forEach((key) => {
				const ent = byKey[key];
				if (!ent)
					throw new Error('the page has no option ' + key);
				out.verdicts[key] = samples[key].map((v) => [ v, luci.verdict(ent.o, ent.sid, v) ]);
			});
		}

		process.stdout.write(JSON.stringify(out, null, 1) + '\n');
	});
}

main().catch((e) => {
	process.stderr.write(String(e && e.stack || e) + '\n');
	process.exit(1);
});

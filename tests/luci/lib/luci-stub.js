/*
 * A minimal STAND-IN for LuCI's client runtime (luci.js, form.js, ui.js,
 * rpc.js, uci.js, tools/widgets.js), written for these tests. It is NOT
 * LuCI: it implements just enough of the documented API for the views of
 * luci-app-route53-ddns to load, declare their options and render, so that
 *   - Node can record every option the settings page writes (extract.js),
 *   - headless Chromium can render both views with canned rpc answers.
 * What it proves and what it cannot is said in tests/luci/README.md.
 *
 * Works in Node (no DOM: form rendering is skipped) and in the browser.
 */
(function(root) {
	'use strict';

	function format(fmt) {
		const args = Array.prototype.slice.call(arguments, 1);
		let i = 0;

		return String(fmt).replace(/%(-?\d*)([sdfx%])/g, (m, width, conv) => {
			if (conv == '%')
				return '%';
			const a = args[i++];
			switch (conv) {
			case 'd': return String(Math.trunc(Number(a)));
			case 'f': return String(Number(a));
			case 'x': return Number(a).toString(16);
			default: return (a == null) ? '' : String(a);
			}
		});
	}

	if (!String.prototype.format)
		Object.defineProperty(String.prototype, 'format', {
			value: function() { return format.apply(null, [ String(this) ].concat(Array.prototype.slice.call(arguments))); },
			configurable: true
		});

	/* --- tiny class system, like LuCI's baseclass.extend() --- */
	function extend(parent, props) {
		function Cls() {
			if (this.__init__)
				this.__init__.apply(this, arguments);
		}
		Cls.prototype = Object.create(parent ? parent.prototype : Object.prototype);
		Cls.prototype.constructor = Cls;
		Object.keys(props || {}).forEach((k) => { Cls.prototype[k] = props[k]; });
		Cls.extend = function(p) { return extend(Cls, p); };
		Cls.prototype.super = function(name, args) {
			return parent.prototype[name].apply(this, args || []);
		};
		return Cls;
	}

	function makeLuci(opts) {
		opts = opts || {};
		const doc = opts.document || null;
		const uciData = JSON.parse(JSON.stringify(opts.uci || {}));
		const rpcHandlers = opts.rpc || {};
		const log = { rpc: [], notifications: [], polls: [] };

		/* --- DOM builder E() --- */
		function E(tag, attrs, children) {
			if (!doc)
				throw new Error('E() needs a DOM');
			if (Array.isArray(attrs) || typeof attrs == 'string' || (attrs && attrs.nodeType)) {
				children = attrs;
				attrs = null;
			}
			const el = Array.isArray(tag) ? doc.createDocumentFragment() : doc.createElement(tag);
			Object.keys(attrs || {}).forEach((k) => {
				const v = attrs[k];
				if (v == null || v === false)
					return;
				if (typeof v == 'function')
					el.addEventListener(k, v);
				else
					el.setAttribute(k, v === true ? '' : v);
			});
			append(el, Array.isArray(tag) ? tag : children);
			return el;
		}

		/* Same rules as LuCI's dom.append(): an array's items become nodes or TEXT;
		 * a single non-node value becomes innerHTML (so the views must never pass
		 * untrusted strings that way); anything else (e.g. a NodeList) is
		 * stringified into innerHTML too, exactly as LuCI does. */
		function append(el, children) {
			if (Array.isArray(children)) {
				children.forEach((c) => {
					if (c && c.nodeType)
						el.appendChild(c);
					else
						el.appendChild(doc.createTextNode('' + c));
				});
			}
			else if (typeof children == 'function') {
				append(el, children(el));
			}
			else if (children && children.nodeType) {
				el.appendChild(children);
			}
			else if (children !== null && children !== undefined) {
				el.innerHTML = '' + children;
			}
		}

		const dom = {
			content(node, children) {
				while (node.firstChild)
					node.removeChild(node.firstChild);
				append(node, children);
				return node;
			},
			append(node, children) { append(node, children); return node; }
		};

		/* --- uci --- */
		const uci = {
			load(conf) { return Promise.resolve(conf); },
			sections(conf, type) {
				return (uciData[conf] || []).filter((s) => !type || s['.type'] == type);
			},
			get(conf, sid, opt) {
				const s = (uciData[conf] || []).filter((x) => x['.name'] == sid)[0];
				return s ? (opt ? s[opt] : s['.type']) : null;
			},
			_data: uciData
		};

		/* --- rpc: declare() returns a function calling the canned handler --- */
		const rpc = {
			declare(d) {
				return function() {
					const key = d.object + '.' + d.method;
					log.rpc.push(key);
					const h = rpcHandlers[key];
					if (!h)
						return Promise.reject(new Error('no handler for ' + key));
					return Promise.resolve().then(() => (typeof h == 'function' ? h.apply(null, arguments) : JSON.parse(JSON.stringify(h))));
				};
			}
		};

		const ui = {
			createHandlerFn(ctx, fn) {
				if (typeof fn == 'string')
					fn = ctx[fn];
				return function(ev) {
					return Promise.resolve(fn.call(ctx, ev));
				};
			},
			addNotification(title, body, cls) {
				log.notifications.push({ text: body && body.textContent != null ? body.textContent : String(body), cls: cls || '' });
				if (doc) {
					const n = E('div', { 'class': 'alert-message notification ' + (cls || '') }, [ body ]);
					(doc.getElementById('maincontent') || doc.body).prepend(n);
				}
			},
			showModal() {},
			hideModal() {}
		};

		const poll = {
			add(fn, interval) { log.polls.push({ fn: fn, interval: interval }); },
			remove() {}
		};

		/* --- form: records the declared options; renders simple cbi markup --- */
		const validators = [];

		const AbstractValue = extend(null, {
			__init__(section, name, title, description) {
				this.section = section;
				this.option = name;
				this.title = title || '';
				this.description = description || '';
				this.keylist = [];
				this.vallist = [];
				this.deplist = [];
				this.rmempty = true;
				this.optional = false;
			},
			value(k, v) { this.keylist.push(String(k)); this.vallist.push(v != null ? v : k); },
			depends(field, value) {
				this.deplist.push(typeof field == 'object' ? field : { [field]: value });
			},
			cfgvalue(sid) { return uci.get(this.section.map.config, sid, this.option); },
			formvalue(sid) {
				const el = this._inputs && this._inputs[sid];
				if (!el)
					return this.cfgvalue(sid);
				return el.type == 'checkbox' ? (el.checked ? '1' : '0') : el.value;
			}
		});

		const widgetTypes = {};
		function defineWidget(name, parent) {
			widgetTypes[name] = extend(parent || AbstractValue, { __widget__: name });
			return widgetTypes[name];
		}

		const form = {};
		[ 'Value', 'Flag', 'ListValue', 'DynamicList', 'DummyValue', 'Button', 'HiddenValue', 'TextValue', 'MultiValue' ]
			.forEach((n) => { form[n] = defineWidget(n); });

		const AbstractSection = extend(null, {
			__init__(map, kind, args) {
				this.map = map;
				this.kind = kind;
				this.children = [];
				this.tabs = [];
				if (kind == 'NamedSection') {
					this.section = args[0];
					this.sectiontype = args[1];
					this.title = args[2] || '';
					this.description = args[3] || '';
				}
				else {
					this.sectiontype = args[0];
					this.title = args[1] || '';
					this.description = args[2] || '';
				}
			},
			tab(name, title) { this.tabs.push({ name: name, title: title }); },
			option(Cls, name, title, description) {
				const o = new Cls(this, name, title, description);
				this.children.push(o);
				return o;
			},
			taboption(tab, Cls, name, title, description) {
				const o = this.option(Cls, name, title, description);
				o.tab = tab;
				return o;
			},
			cfgsections() {
				if (this.kind == 'NamedSection')
					return [ this.section ];
				return uci.sections(this.map.config, this.sectiontype).map((s) => s['.name']);
			}
		});

		[ 'NamedSection', 'TypedSection', 'TableSection', 'GridSection' ].forEach((k) => {
			form[k] = extend(AbstractSection, { __kind__: k });
		});

		form.Map = extend(null, {
			__init__(config, title, description) {
				this.config = config;
				this.title = title;
				this.description = description;
				this.sections = [];
			},
			section(Cls) {
				const s = new Cls(this, Cls.prototype.__kind__, Array.prototype.slice.call(arguments, 1));
				this.sections.push(s);
				return s;
			},
			render() {
				if (!doc)
					return Promise.resolve(this);
				return Promise.resolve(renderMap(this));
			}
		});
		form.JSONMap = form.Map;

		/* network: only what the pickers need */
		const stubNetwork = (name) => ({ getName: () => name });
		const network = {
			instantiateNetwork: stubNetwork,
			getNetworks() { return Promise.resolve((opts.networks || [ 'lan', 'wan', 'wan6' ]).map(stubNetwork)); }
		};

		const widgets = {
			NetworkSelect: defineWidget('NetworkSelect', form.ListValue),
			DeviceSelect: defineWidget('DeviceSelect', form.ListValue),
			ZoneSelect: defineWidget('ZoneSelect', form.ListValue)
		};

		widgets.NetworkSelect.prototype.renderWidget = function(sid, idx, cfgvalue) {
			const v = (cfgvalue != null) ? cfgvalue : (this.default != null ? this.default : '');
			const el = E('select', { 'class': 'cbi-input-select' }, (this.networks || []).map((n) =>
				E('option', { 'value': n.getName() }, [ n.getName() ])));
			el.value = v;
			return el;
		};

		/* datatype subset used by the views: uinteger, range(a,b), and(...) */
		function checkDatatype(dt, value) {
			if (!dt)
				return true;
			const m = dt.match(/^and\((.*)\)$/);
			if (m)
				return splitArgs(m[1]).every((d) => checkDatatype(d, value));
			if (dt == 'uinteger')
				return /^\d+$/.test(value);
			const r = dt.match(/^range\(([-\d.]+),([-\d.]+)\)$/);
			if (r)
				return /^-?\d+(\.\d+)?$/.test(value) && +value >= +r[1] && +value <= +r[2];
			throw new Error('stub: unsupported datatype ' + dt);
		}

		function splitArgs(s) {
			const out = [];
			let depth = 0, cur = '';
			for (const c of s) {
				if (c == ',' && depth == 0) { out.push(cur); cur = ''; continue; }
				if (c == '(') depth++;
				if (c == ')') depth--;
				cur += c;
			}
			out.push(cur);
			return out;
		}

		/* What LuCI does on save for one value: emptiness, datatype, then validate(). */
		function verdict(o, sid, value) {
			if (value === '' || value == null) {
				if (!(o.optional || o.rmempty) && o.__widget__ == 'Value' && !o.validate)
					return 'empty';
			}
			else if (!checkDatatype(o.datatype, value))
				return 'datatype ' + o.datatype;
			if (typeof o.validate == 'function') {
				const v = o.validate(sid, value);
				return v === true ? true : String(v);
			}
			return true;
		}

		function renderMap(m) {
			const root = E('div', { 'class': 'cbi-map', 'id': 'cbi-' + m.config }, [
				E('h2', { 'name': 'content' }, [ m.title ]),
				E('div', { 'class': 'cbi-map-descr' }, [ m.description ])
			]);
			m.sections.forEach((s) => root.appendChild(renderSection(s)));
			return root;
		}

		function renderInput(o, sid) {
			const val = o.cfgvalue(sid);
			const v = (val == null) ? (o.default != null ? o.default : '') : val;
			let el;
			if (o.__widget__ == 'Flag') {
				el = E('input', { 'type': 'checkbox', 'class': 'cbi-input-checkbox', 'value': '1' });
				el.checked = (v == '1');
			}
			else if (o.__widget__ == 'NetworkSelect') {
				o.networks = (opts.networks || [ 'lan', 'wan', 'wan6' ]).map(stubNetwork);
				el = o.renderWidget(sid, 0, val);
			}
			else if (o.keylist.length) {
				const keys = o.keylist;
				el = E('select', { 'class': 'cbi-input-select' }, keys.map((k, i) =>
					E('option', { 'value': k }, [ o.keylist.length ? String(o.vallist[i]) : k ])));
				el.value = v;
			}
			else {
				el = E('input', { 'type': 'text', 'class': 'cbi-input-text', 'placeholder': o.placeholder || '', 'value': v });
			}
			el.setAttribute('name', 'cbid.%s.%s.%s'.format(o.section.map.config, sid, o.option));
			o._inputs = o._inputs || {};
			o._inputs[sid] = el;
			const check = () => {
				const res = verdict(o, sid, o.formvalue(sid));
				if (res === true) {
					el.classList.remove('cbi-input-invalid');
					el.removeAttribute('data-tooltip');
				}
				else {
					el.classList.add('cbi-input-invalid');
					el.setAttribute('data-tooltip', res);
				}
				return res;
			};
			el.addEventListener('input', check);
			el.addEventListener('change', check);
			validators.push(check);
			return el;
		}

		function renderSection(s) {
			const sec = E('div', { 'class': 'cbi-section', 'data-section-type': s.sectiontype }, [
				s.title ? E('h3', [ s.title ]) : '',
				s.description ? E('div', { 'class': 'cbi-section-descr' }, [ s.description ]) : ''
			]);
			if (s.kind == 'TableSection' || s.kind == 'GridSection') {
				const table = E('table', { 'class': 'table cbi-section-table' }, [
					E('tr', { 'class': 'tr cbi-section-table-titles' }, s.children.map((o) => E('th', { 'class': 'th cbi-section-table-cell' }, [ o.title ])))
				]);
				s.cfgsections().forEach((sid) => {
					table.appendChild(E('tr', { 'class': 'tr cbi-section-table-row', 'data-sid': sid }, s.children.map((o) =>
						E('td', { 'class': 'td cbi-value-field', 'data-title': o.title, 'data-name': o.option }, [ renderInput(o, sid) ]))));
				});
				sec.appendChild(table);
				if (s.addremove)
					sec.appendChild(E('div', { 'class': 'cbi-section-create' }, [
						E('button', { 'class': 'cbi-button cbi-button-add' }, [ 'Add' ]) ]));
				return sec;
			}
			s.cfgsections().forEach((sid) => {
				const node = E('div', { 'class': 'cbi-section-node' });
				s.children.forEach((o) => {
					node.appendChild(E('div', { 'class': 'cbi-value', 'data-name': o.option }, [
						E('label', { 'class': 'cbi-value-title' }, [ o.title ]),
						E('div', { 'class': 'cbi-value-field' }, [
							renderInput(o, sid),
							o.description ? E('div', { 'class': 'cbi-value-description' }, [ o.description ]) : ''
						])
					]));
				});
				sec.appendChild(node);
			});
			return sec;
		}

		const baseclass = {
			extend(props) {
				return extend(null, props);
			}
		};
		const view = baseclass;

		const L = {
			env: {},
			resolveDefault(p, d) { return Promise.resolve(p).catch(() => d); },
			bind(fn, ctx) { return fn.bind(ctx); },
			ui: ui,
			dom: dom
		};

		const modules = {
			baseclass: baseclass, view: view, form: form, rpc: rpc, uci: uci, ui: ui, poll: poll, dom: dom, network: network,
			'tools.widgets': widgets
		};

		/* Compiles a view file the way luci.js does: 'require x [as y]' lines
		 * become parameters, the file body becomes a function body. */
		function compile(source) {
			const names = [], values = [];
			const re = /^\s*'require\s+([A-Za-z0-9_.-]+)(?:\s+as\s+([A-Za-z_$][\w$]*))?';/mg;
			let m;
			while ((m = re.exec(source)) != null) {
				if (!(m[1] in modules))
					throw new Error('stub: no stand-in for module ' + m[1]);
				names.push(m[2] || m[1].split('.').pop());
				values.push(modules[m[1]]);
			}
			const translate = (s) => s;
			/* eslint-disable-next-line no-new-func -- this IS the module loader */
			const fn = new Function('L', '_', 'N_', 'E', ...names, source);
			return fn(L, translate, (n, s) => s, E, ...values);
		}

		function loadView(source) {
			const Cls = compile(source);
			return new Cls();
		}

		/* An app's own module (luci-static/resources/NAME.js, 'require'd by its dotted
		 * name): like luci.js, the file must yield a class; its instance is the module. */
		function loadModule(name, source) {
			const Cls = compile(source);
			if (typeof Cls != 'function')
				throw new TypeError('"' + name + '" factory yields invalid constructor');
			modules[name] = new Cls();
			return modules[name];
		}

		/* Runs a view's load() and render() like LuCI's view.__init__ does. */
		function runView(source) {
			const v = loadView(source);
			return Promise.resolve(v.load ? v.load() : null).then((data) => v.render(data)).then((node) => ({ view: v, node: node }));
		}

		return {
			L: L, E: E, modules: modules, log: log, uci: uci, form: form,
			loadView: loadView, loadModule: loadModule, runView: runView, verdict: verdict,
			validateAll() { return validators.map((f) => f()); }
		};
	}

	if (typeof module == 'object' && module.exports)
		module.exports = { makeLuci: makeLuci, format: format };
	else
		root.makeLuci = makeLuci;
})(typeof window != 'undefined' ? window : globalThis);

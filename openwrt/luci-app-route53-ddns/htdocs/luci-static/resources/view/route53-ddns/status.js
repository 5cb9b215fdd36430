'use strict';
'require view';
'require rpc';
'require uci';
'require ui';
'require poll';

/*
 * Live status of /usr/sbin/route53-ddns: what `route53-ddns status --json`
 * reports, an "Update now" button and the router's PUBLIC key with the
 * command that registers it. The private key never reaches this page: the
 * rpcd plugin only runs `status --json`, `pubkey` and `update --force --detach`.
 *
 * The status is polled every 2 seconds, so a run in progress, its first
 * failure and the scheduled retry show up within about 2 s of happening.
 */

const POLL_S = 2;

const callStatus = rpc.declare({
	object: 'luci.route53-ddns',
	method: 'status',
	expect: { '': {} }
});

const callUpdate = rpc.declare({
	object: 'luci.route53-ddns',
	method: 'update',
	expect: { '': {} }
});

const callPubkey = rpc.declare({
	object: 'luci.route53-ddns',
	method: 'pubkey',
	expect: { '': {} }
});

const REGISTRY_PREFIX = '/route53-ddns';

function fmtTime(unix) {
	if (unix == null)
		return _('never');

	const d = new Date(unix * 1000);
	const pad = (n) => (n < 10 ? '0' : '') + n;

	return '%d-%s-%s %s:%s:%s'.format(d.getFullYear(), pad(d.getMonth() + 1), pad(d.getDate()),
		pad(d.getHours()), pad(d.getMinutes()), pad(d.getSeconds()));
}

function fmtRelative(unix, now) {
	if (unix == null)
		return '';

	const delta = Math.round(unix - now);
	const abs = Math.abs(delta);
	let span;

	if (abs < 60)
		span = _('%d s').format(abs);
	else if (abs < 3600)
		span = _('%d min').format(Math.round(abs / 60));
	else if (abs < 172800)
		span = _('%d h').format(Math.round(abs / 3600));
	else
		span = _('%d days').format(Math.round(abs / 86400));

	return delta > 0 ? _('in %s').format(span) : _('%s ago').format(span);
}

function when(unix, now) {
	if (unix == null)
		return E('span', { 'class': 'r53-muted' }, [ _('never') ]);

	return E('span', { 'title': fmtTime(unix) }, [
		fmtTime(unix), ' ', E('span', { 'class': 'r53-muted' }, [ '(%s)'.format(fmtRelative(unix, now)) ])
	]);
}

/* Canonical names from the UCI config, as the registry expects them. */
function configuredNames() {
	const seen = {};

	return uci.sections('route53-ddns', 'host').map((s) => String(s.name || '').replace(/\.$/, '').toLowerCase())
		.filter((n) => n != '' && !seen[n] && (seen[n] = true));
}

function shellQuote(s) {
	return "'" + String(s).replace(/'/g, "'\\''") + "'";
}

function provisioningCommand(keyId, names) {
	return 'aws ssm put-parameter --name %s --type String --value %s'.format(
		'%s/keys/%s'.format(REGISTRY_PREFIX, keyId),
		shellQuote(JSON.stringify({ names: names })));
}

/* navigator.clipboard needs a secure context; routers are mostly plain http. */
function copyText(text) {
	if (navigator.clipboard && window.isSecureContext)
		return navigator.clipboard.writeText(text);

	return new Promise((resolve, reject) => {
		const ta = E('textarea', { 'style': 'position:fixed;top:0;left:0;opacity:0', 'readonly': '' }, [ text ]);

		document.body.appendChild(ta);
		ta.select();

		let ok = false;

		try {
			ok = document.execCommand('copy');
		}
		catch {
			ok = false;
		}

		document.body.removeChild(ta);
		ok ? resolve() : reject(new Error('copy refused'));
	});
}

function copyButton(getText, label) {
	const btn = E('button', {
		'class': 'cbi-button cbi-button-action r53-copy',
		'click': ui.createHandlerFn(null, () => {
			return copyText(getText()).then(() => {
				btn.firstChild.data = _('Copied');
				window.setTimeout(() => { btn.firstChild.data = label; }, 2000);
			}, () => {
				ui.addNotification(null, E('p', [
					_('The browser refused to copy. Select the text and copy it by hand.') ]), 'warning');
			});
		})
	}, [ label ]);

	return btn;
}

function resultBadge(host) {
	const labels = {
		updated: [ _('Updated'), 'success' ],
		unchanged: [ _('Up to date'), 'success' ],
		error: [ _('Error'), 'danger' ],
		never: [ _('Not yet sent'), 'notice' ]
	};
	const l = labels[host.result] || [ host.result || '?', 'notice' ];

	return E('span', { 'class': 'label r53-result r53-result-%s r53-%s'.format(host.result || 'unknown', l[1]) }, [ l[0] ]);
}

/* The NAT is the router's: one warning for the page, from the host that says most. */
function natWarningOnce(hosts) {
	const natted = hosts.filter((h) => h.nat == 'cgnat' || h.nat == 'nat');
	const best = natted.find((h) => h.observed) || natted[0];

	return best ? natWarning(best) : '';
}

function natWarning(host) {
	const wan = host.wan_ipv4 || '?';
	const seen = host.observed;

	if (host.nat == 'cgnat')
		return E('div', { 'class': 'alert-message warning r53-nat' }, [
			E('strong', [ _('Carrier-grade NAT (CGNAT) detected.') ]), ' ',
			seen
				? _('Your router\'s WAN address %s is in the shared range 100.64.0.0/10: the public address %s belongs to your provider\'s NAT and is shared with other customers. The A record will point there, but connections to it will not reach this router. Use IPv6 (AAAA) instead, or ask your provider for a public IPv4 address.').format(wan, seen)
				: _('Your router\'s WAN address %s is in the shared range 100.64.0.0/10: your public IPv4 address belongs to your provider\'s NAT and is shared with other customers, so connections to it will not reach this router. Use IPv6 (AAAA) instead, or ask your provider for a public IPv4 address.').format(wan)
		]);

	if (host.nat == 'nat')
		return E('div', { 'class': 'alert-message warning r53-nat' }, [
			E('strong', [ _('Double NAT detected.') ]), ' ',
			seen
				? _('Your router\'s WAN address %s is private, so another router or modem sits in front of it and owns the public address %s. Forward the ports on that device or switch it to bridge mode, otherwise connections to the published address will not reach this router.').format(wan, seen)
				: _('Your router\'s WAN address %s is private, so another router or modem sits in front of it and owns the public address. Forward the ports on that device or switch it to bridge mode, otherwise connections to the published address will not reach this router.').format(wan)
		]);

	return '';
}

function errorBlock(host) {
	if (!host.error)
		return '';

	const err = host.error;

	return E('div', { 'class': 'r53-error' }, [
		E('div', [ E('strong', [ err.code ? '%s: '.format(err.code) : '' ]), err.message || '' ]),
		err.advice ? E('div', { 'class': 'r53-advice' }, [ E('em', [ _('What to do:') ]), ' ', err.advice ]) : '',
		E('div', { 'class': 'r53-muted' }, [
			err.permanent
				? _('The endpoint refused this request; it is not retried until the configuration changes.')
				: _('This is a transient failure; the next check retries automatically.')
		])
	]);
}

/* route53-ddns exit codes (see the binary's CLI) */
function exitMessage(code) {
	switch (code) {
	case 0: return _('Update done: the records were updated or confirmed.');
	case 3: return _('Nothing to do: the service is disabled, or the addresses are unchanged.');
	case 4: return _('The update did not run: configuration or key error (see below).');
	case 5: return _('The endpoint refused the update (see the error below).');
	case 6: return _('The update failed for now (network or endpoint); it is retried at the next check.');
	default: return _('route53-ddns ended with exit code %d.').format(code);
	}
}

function cell(title, content, cls) {
	return E('td', { 'class': 'td' + (cls ? ' ' + cls : ''), 'data-title': title }, content);
}

function renderHosts(st, now) {
	const hosts = Array.isArray(st.hosts) ? st.hosts : [];
	const titles = [ _('Host name'), _('Published'), _('Last result'), _('Public address seen'), _('Details') ];

	const table = E('table', { 'class': 'table cbi-section-table r53-hosts' }, [
		E('tr', { 'class': 'tr table-titles' }, titles.map((t) => E('th', { 'class': 'th' }, [ t ])))
	]);

	if (!hosts.length)
		table.appendChild(E('tr', { 'class': 'tr placeholder' }, [
			E('td', { 'class': 'td' }, [ E('em', [ _('No host names configured yet: add them on the Settings tab.') ]) ])
		]));

	hosts.forEach((h) => {
		table.appendChild(E('tr', { 'class': 'tr r53-host', 'data-host': h.name }, [
			cell(titles[0], [ E('strong', [ h.name ]) ]),
			cell(titles[1], [
				E('div', [ 'A: ', h.ipv4 ? E('code', [ h.ipv4 ]) : E('span', { 'class': 'r53-muted' }, [ '—' ]) ]),
				E('div', [ 'AAAA: ', h.ipv6 ? E('code', [ h.ipv6 ]) : E('span', { 'class': 'r53-muted' }, [ '—' ]) ])
			]),
			cell(titles[2], [
				resultBadge(h), E('br'), when(h.time, now),
				h.request_id ? E('div', { 'class': 'r53-muted r53-reqid' }, [ _('Request ID'), ': ', E('code', [ h.request_id ]) ]) : ''
			]),
			cell(titles[3], [
				h.observed ? E('code', [ h.observed ]) : E('span', { 'class': 'r53-muted' }, [ '—' ]),
				(h.wan_ipv4 && h.wan_ipv4 != h.observed)
					? E('div', { 'class': 'r53-muted' }, [ _('WAN interface: %s').format(h.wan_ipv4) ]) : ''
			]),
			cell(titles[4], [
				/* a NAT's diagnosis says what the warning above the table says */
				(h.diagnosis && h.nat != 'cgnat' && h.nat != 'nat') ? E('div', { 'class': 'r53-diagnosis' }, [ h.diagnosis ]) : '',
				errorBlock(h)
			])
		]));
	});

	return table;
}

/* What is going on right now: `status --json`'s "run" object. */
function renderRun(run, now) {
	const r = run || {};
	const err = r.last_error;
	let head;

	/* `since` is null for a moment after the pass has taken the lock */
	if (r.state == 'running')
		head = E('span', { 'class': 'r53-running' }, [ r.since != null
			? _('Sending now (try %d), since %s').format(r.attempt || 1, fmtTime(r.since))
			: _('Sending now (try %d)').format(r.attempt || 1) ]);
	else if (r.state == 'retrying')
		head = E('span', { 'class': 'r53-retrying' }, [
			_('%d tries failed since %s; next try %s').format(r.attempt || 1, fmtTime(r.since),
				r.next_try != null ? '%s (%s)'.format(fmtTime(r.next_try), fmtRelative(r.next_try, now)) : _('at the next check')),
			/* no process waits for it (the wait is longer than the check interval): the
			 * safety-net timer or an interface event sends it, up to one interval later */
			(r.next_try != null && !r.waiting)
				? E('span', { 'class': 'r53-muted r53-not-waiting' }, [ ' ', _('(sent by the first check or interface event after that)') ]) : '' ]);
	else
		return E('span', { 'class': 'r53-muted r53-idle' }, [ _('Idle') ]);

	return E('div', { 'class': 'r53-run' }, [
		head,
		err ? E('div', { 'class': 'r53-error r53-run-error' }, [
			E('div', [ E('strong', [ err.code ? '%s: '.format(err.code) : '' ]), err.message || '' ]),
			err.advice ? E('div', { 'class': 'r53-advice' }, [ E('em', [ _('What to do:') ]), ' ', err.advice ]) : ''
		]) : ''
	]);
}

function nextCheck(st, now) {
	if (!st.enabled)
		return E('span', { 'class': 'r53-muted' }, [ '—' ]);

	/* enabled and not run yet: procd runs the first check as the service starts */
	if (st.next_check != null && st.next_check <= now + 1)
		return E('span', { 'class': 'r53-next-now' }, [ st.last_run == null
			? _('now (the first check runs as the service starts)')
			: _('now') ]);

	return when(st.next_check, now);
}

/*
 * Where the router took its IPv6 from at the last pass (`status --json`'s
 * "ipv6_interface"): with ipv6_interface left at wan6 it also looks at PPPoE's
 * dynamic <ipv4_interface>_6 (netifd's wan_6 with "option ipv6 auto").
 */
function ipv6Source(w) {
	const configured = uci.get('route53-ddns', 'global', 'ipv6_interface') || 'wan6';
	let how;

	if (!w.automatic)
		how = _('set in Settings: IPv6 interface');
	else if (w.name != configured)
		how = _('PPPoE, found automatically');
	else
		how = _('found automatically');

	return E('span', { 'class': 'r53-ipv6-source' }, [
		E('code', [ w.name ]), ' ', '(%s)'.format(how),
		w.note ? E('div', { 'class': 'r53-muted r53-ipv6-note' }, [ ' ', w.note ]) : ''
	]);
}

function renderSummary(st, now) {
	const rows = [
		[ _('Service'), st.enabled
			? E('span', { 'class': 'r53-enabled' }, [ _('Enabled') ])
			: E('span', { 'class': 'r53-disabled' }, [ _('Disabled: no updates are sent. Enable it on the Settings tab.') ]) ],
		[ _('Current run'), renderRun(st.run, now) ],
		[ _('Last run'), when(st.last_run, now) ],
		[ _('Next check'), nextCheck(st, now) ]
	];

	/* only once a pass has looked (and only when a host publishes IPv6) */
	const w = st.ipv6_interface;

	if (w && typeof(w) == 'object' && w.name)
		rows.push([ _('IPv6 from'), ipv6Source(w) ]);

	rows.push([ _('Version'), st.version || '?' ]);

	return E('table', { 'class': 'table r53-summary' }, rows.map((r) => E('tr', { 'class': 'tr' }, [
		E('td', { 'class': 'td left', 'width': '33%' }, [ r[0] ]),
		E('td', { 'class': 'td left' }, [ r[1] ])
	])));
}

return view.extend({
	lastRun: null,
	lastStatus: {},

	load() {
		return Promise.all([
			L.resolveDefault(callStatus(), {}),
			L.resolveDefault(callPubkey(), {}),
			uci.load('route53-ddns')
		]);
	},

	renderStatus(st) {
		const now = Date.now() / 1000;
		const nodes = [];

		if (st.error && !st.hosts)
			nodes.push(E('div', { 'class': 'alert-message error r53-backend-error' }, [
				_('Could not read the status: %s').format(st.error) ]));

		if (st.config_error)
			nodes.push(E('div', { 'class': 'alert-message error r53-config-error' }, [
				E('strong', [ _('Configuration error:') ]), ' ', st.config_error ]));

		nodes.push(renderSummary(st, now));
		nodes.push(natWarningOnce(Array.isArray(st.hosts) ? st.hosts : []));
		nodes.push(renderHosts(st, now));

		return E('div', { 'id': 'r53-status' }, nodes);
	},

	renderKey(pk, st) {
		const key = (st.key && typeof(st.key) == 'object') ? st.key : {};
		const keyId = key.id || pk.key_id || st.key_id || null;
		const names = configuredNames();
		const registered = names.length ? names : [ 'home.example.com' ];

		if (!keyId)
			return E('div', { 'id': 'r53-key' }, [
				E('div', { 'class': 'alert-message warning' }, [
					_('The router has no key yet (%s). It is created when the package is installed; to create it now run "route53-ddns keygen" on the router.')
						.format(pk.error || _('none found'))
				])
			]);

		const cmd = provisioningCommand(keyId, registered);

		return E('div', { 'id': 'r53-key' }, [
			E('p', [ _('Public key (the key ID). It is safe to share; the private key never leaves the router and is not shown here.') ]),
			E('div', { 'class': 'r53-copyrow' }, [
				E('code', { 'class': 'r53-keyid' }, [ keyId ]),
				copyButton(() => keyId, _('Copy key'))
			]),
			E('p', [ names.length
				? _('Register the key and the names it may update with this AWS CLI command (run it where your AWS credentials are):')
				: _('No host names are configured yet; this example registers home.example.com. Add your names on the Settings tab first:') ]),
			E('pre', { 'class': 'r53-provision' }, [ cmd ]),
			E('div', [ copyButton(() => cmd, _('Copy command')) ]),
			E('p', { 'class': 'r53-muted' }, [
				_('Use --overwrite to change an existing registration. If your endpoint uses another R53DDNS_REGISTRY_PREFIX than %s, change the parameter name accordingly.').format(REGISTRY_PREFIX) ]),
			this.renderRotation(key, registered)
		]);
	},

	/* A rotation in progress (`keygen --next`), and the key the last one replaced. */
	renderRotation(key, names) {
		const nodes = [];

		if (key.next_key_id) {
			const next = key.next_key_id;
			const cmd = provisioningCommand(next, names);

			nodes.push(E('div', { 'class': 'r53-next-key' }, [
				E('h4', [ _('Key rotation: a new key is waiting') ]),
				E('p', [ _('Each update is signed with the new key first and, until the endpoint accepts it, sent again with the current key. Register the new key; the first update the endpoint accepts makes it the key.') ]),
				E('div', { 'class': 'r53-copyrow' }, [ E('code', { 'class': 'r53-next-keyid' }, [ next ]) ]),
				E('pre', { 'class': 'r53-provision-next' }, [ cmd ]),
				E('div', [ copyButton(() => cmd, _('Copy command')) ])
			]));
		}

		if (key.old_key_id && key.old_key_remove) {
			const remove = key.old_key_remove;

			nodes.push(E('div', { 'class': 'r53-old-key' }, [
				E('h4', [ _('Key rotation: remove the old key') ]),
				E('p', [ _('The key %s was replaced and the router no longer has it. Remove it from the registry with this command (where your AWS credentials are); then "route53-ddns pubkey --old" on the router says which file to delete.').format(key.old_key_id) ]),
				E('pre', { 'class': 'r53-remove-old' }, [ remove ]),
				E('div', [ copyButton(() => remove, _('Copy command')) ])
			]));
		}

		return E('div', { 'class': 'r53-rotation' }, nodes);
	},

	/* One page-local message at a time: a new one replaces the last, null clears it. */
	banner(text, kind) {
		const node = document.getElementById('r53-banner');

		if (!node)
			return;

		node.className = text ? 'alert-message r53-banner ' + (kind || 'info') : 'r53-banner';
		node.textContent = text || '';
	},

	refresh() {
		return L.resolveDefault(callStatus(), {}).then((st) => {
			const keyBefore = JSON.stringify((this.lastStatus || {}).key || null);

			this.lastStatus = st;
			const node = document.getElementById('r53-status');

			if (node)
				node.parentNode.replaceChild(this.renderStatus(st), node);

			/* the key section only when the key or a rotation changed (keeps "Copied") */
			const keyNode = document.getElementById('r53-key');

			if (keyNode && JSON.stringify(st.key || null) != keyBefore)
				keyNode.parentNode.replaceChild(this.renderKey(this.pubkey || {}, st), keyNode);

			return st;
		});
	},

	handleUpdateNow(ev) {
		const before = this.lastRun;
		const btn = ev.currentTarget;
		const cur = this.lastStatus || {};

		/* the binary would exit at once without sending anything: say why instead */
		if (cur.config_error) {
			this.banner(_('Fix the configuration first: %s').format(cur.config_error), 'warning');
			return Promise.resolve();
		}

		if (cur.enabled === false) {
			this.banner(_('The service is disabled: tick "Enable" on the Settings tab and Save & Apply first.'), 'warning');
			return Promise.resolve();
		}

		return callUpdate().then((res) => {
			if (res.error)
				throw new Error(res.error);

			/* the backend waited for the run (no start-stop-daemon): report its exit code */
			if (res.finished)
				return this.refresh().then((st) => {
					this.lastRun = st.last_run;
					this.banner(exitMessage(res.code), (res.code == 0 || res.code == 3) ? 'info' : 'warning');
				});

			this.banner(_('Update started; the status below follows it. If a run was already going on, it makes one more pass for this click.'), 'info');

			/* poll a little faster until the run shows up in the status; then the
			 * status table says how it went and the banner goes away */
			let tries = 0;
			const wait = () => this.refresh().then((st) => {
				if (st.last_run != null && st.last_run !== before) {
					this.lastRun = st.last_run;
					this.banner(null);
					return;
				}
				if (++tries >= 20) {
					this.banner(_('The update has not finished yet; the status keeps refreshing every 2 seconds.'), 'info');
					return;
				}
				return new Promise((r) => window.setTimeout(r, 2000)).then(wait);
			});

			return wait();
		}).catch((err) => {
			this.banner(_('Could not start the update: %s').format(err.message || err), 'danger');
		}).finally(() => {
			if (btn)
				btn.blur();
		});
	},

	render(data) {
		const st = data[0] || {};
		const pk = data[1] || {};

		this.lastRun = st.last_run;
		this.lastStatus = st;
		this.pubkey = pk;

		poll.add(() => this.refresh().then((s) => { this.lastRun = s.last_run != null ? s.last_run : this.lastRun; }), POLL_S);

		return E('div', { 'class': 'cbi-map r53' }, [
			E('style', { 'type': 'text/css' }, [
				'.r53 .r53-muted{opacity:.7;font-size:90%}',
				'.r53 code{overflow-wrap:break-word}',
				'.r53 .r53-keyid{overflow-wrap:anywhere}',
				'.r53 .r53-provision{white-space:pre-wrap;overflow-wrap:anywhere;max-width:100%;overflow-x:auto}',
				'.r53 .r53-copyrow{display:flex;flex-wrap:wrap;gap:.5em;align-items:center}',
				'.r53 .r53-error{margin-top:.3em}',
				'.r53 .r53-advice{margin:.2em 0}',
				/* white text at >= 4.5:1 (WCAG AA): 5.4, 5.2 and 7.0 */
				'.r53 .label.r53-success{background:#2b7a2b;color:#fff}',
				'.r53 .label.r53-danger{background:#c43c35;color:#fff}',
				'.r53 .label.r53-notice{background:#595959;color:#fff}',
				'.r53 .r53-banner:empty{display:none}'
			].join('\n')),
			E('h2', { 'name': 'content' }, [ _('Route53 DDNS') ]),
			E('div', { 'class': 'cbi-map-descr' }, [
				_('What the router last published, what it saw, and when it checks next.') ]),
			E('div', { 'class': 'cbi-section' }, [
				E('h3', [ _('Status') ]),
				E('div', { 'id': 'r53-banner', 'class': 'r53-banner', 'role': 'status' }),
				this.renderStatus(st),
				E('div', { 'class': 'cbi-page-actions' }, [
					E('button', {
						'class': 'cbi-button cbi-button-apply r53-update-now',
						'click': ui.createHandlerFn(this, 'handleUpdateNow')
					}, [ _('Update now') ])
				])
			]),
			E('div', { 'class': 'cbi-section' }, [
				E('h3', [ _('Router key') ]),
				this.renderKey(pk, st)
			])
		]);
	},

	handleSave: null,
	handleSaveApply: null,
	handleReset: null
});

'use strict';
'require baseclass';
'require uci';

/*
 * The status panel of the Status page, built from `route53-ddns status --json`:
 * the summary (service, current run, last run, next check, where IPv6 came from),
 * one NAT warning for the page, and one row per host with its published
 * addresses, last result and error. Text from the router is only ever a text node.
 */

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

/* The whole panel for one `status --json` answer. */
function renderStatus(st) {
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
}

return baseclass.extend({
	renderStatus: renderStatus
});

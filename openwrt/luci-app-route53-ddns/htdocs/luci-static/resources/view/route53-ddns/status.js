'use strict';
'require view';
'require rpc';
'require uci';
'require ui';
'require poll';
'require route53-ddns.status as r53status';
'require route53-ddns.key as r53key';

/*
 * Live status of /usr/sbin/route53-ddns: what `route53-ddns status --json`
 * reports, an "Update now" button and the router's PUBLIC key with the
 * command that registers it. The private key never reaches this page: the
 * rpcd plugin only runs `status --json`, `pubkey` and `update --force --detach`.
 *
 * The status is polled every 2 seconds, so a run in progress, its first
 * failure and the scheduled retry show up within about 2 s of happening.
 *
 * This view is the page: loading, polling, "Update now" and the layout. What
 * the status shows is built by route53-ddns/status.js, the key section by
 * route53-ddns/key.js (under luci-static/resources/).
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
				node.parentNode.replaceChild(r53status.renderStatus(st), node);

			/* the key section only when the key or a rotation changed (keeps "Copied") */
			const keyNode = document.getElementById('r53-key');

			if (keyNode && JSON.stringify(st.key || null) != keyBefore)
				keyNode.parentNode.replaceChild(r53key.renderKey(this.pubkey || {}, st), keyNode);

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
				r53status.renderStatus(st),
				E('div', { 'class': 'cbi-page-actions' }, [
					E('button', {
						'class': 'cbi-button cbi-button-apply r53-update-now',
						'click': ui.createHandlerFn(this, 'handleUpdateNow')
					}, [ _('Update now') ])
				])
			]),
			E('div', { 'class': 'cbi-section' }, [
				E('h3', [ _('Router key') ]),
				r53key.renderKey(pk, st)
			])
		]);
	},

	handleSave: null,
	handleSaveApply: null,
	handleReset: null
});

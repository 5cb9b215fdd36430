'use strict';
'require baseclass';
'require uci';
'require ui';

/*
 * The "Router key" section of the Status page: the router's PUBLIC key id
 * (from `route53-ddns pubkey` or `status --json`), the AWS CLI command that
 * registers it for the configured names, copy buttons, and a key rotation in
 * progress. The private key never reaches this page.
 */

const REGISTRY_PREFIX = '/route53-ddns';

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

/* The key id, the command that registers it, or why there is no key yet. */
function renderKey(pk, st) {
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
		renderRotation(key, registered)
	]);
}

/* A rotation in progress (`keygen --next`), and the key the last one replaced. */
function renderRotation(key, names) {
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
}

return baseclass.extend({
	renderKey: renderKey
});

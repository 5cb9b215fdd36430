'use strict';
'require view';
'require form';
'require uci';
'require network';
'require tools.widgets as widgets';
'require route53-ddns.checks as checks';

/*
 * Settings for /etc/config/route53-ddns.
 *
 * Every option written here is one that `route53-ddns schema` declares, with
 * the same kind and limits; tests/luci/ checks that against the binary. The
 * validators (route53-ddns/checks.js) mirror the binary's own checks, so what
 * the page accepts the router accepts too (and the other way round).
 *
 * key_file is deliberately not editable here: the private key never passes
 * through the web interface, not even its location.
 */

/*
 * LuCI's network picker only lists interfaces that exist right now, and a saved value that is
 * not among them (PPPoE's dynamic wan_6 while it is down) would silently become another
 * interface on the next Save. This keeps the configured name as a choice. (It wraps the
 * option's renderWidget instead of subclassing NetworkSelect: NetworkSelect.load() calls
 * this.super() asynchronously, which in a subclass resolves to itself and never ends.)
 */
function keepConfiguredInterface(o) {
	const renderWidget = o.renderWidget;

	o.renderWidget = function(section_id, option_index, cfgvalue) {
		const name = (cfgvalue != null && cfgvalue !== '') ? cfgvalue : this.default;

		if (name && !(this.networks || []).some((n) => n.getName() == name))
			this.networks = (this.networks || []).concat([ network.instantiateNetwork(name) ]);

		return renderWidget.call(this, section_id, option_index, cfgvalue);
	};

	return o;
}

/* A logical-interface picker (General tab) that keeps the configured name even while that
 * interface is down, and always writes it. */
function interfaceOption(s, name, title, description, dflt) {
	const o = s.taboption('general', widgets.NetworkSelect, name, title, description);
	o.nocreate = true;
	keepConfiguredInterface(o);
	o.default = dflt;
	o.rmempty = false;
	return o;
}

return view.extend({
	load() {
		return uci.load('route53-ddns');
	},

	render() {
		let s, o;

		const m = new form.Map('route53-ddns', _('Route53 DDNS'),
			_('Publishes this router\'s public addresses under your own host names in Amazon Route53. ' +
			  'Each update is signed with the router\'s key and sent over HTTPS to your endpoint; ' +
			  'no AWS credentials are stored on the router.'));

		s = m.section(form.NamedSection, 'global', 'global', _('Global settings'));
		s.addremove = false;
		s.tab('general', _('General'));
		s.tab('advanced', _('Advanced'));

		o = s.taboption('general', form.Flag, 'enabled', _('Enable'),
			_('Send updates when the WAN addresses change, and check them every check interval.'));
		o.default = '0';
		o.rmempty = false;

		o = s.taboption('general', form.Value, 'endpoint', _('Endpoint URL'),
			_('The base HTTPS URL of your route53-ddns endpoint as the deployment printed it (the Lambda ' +
			  'function URL or your API domain), without a path. Plain http:// is refused.'));
		o.placeholder = 'https://abcdefghij.lambda-url.eu-west-1.on.aws/';
		o.rmempty = false;
		o.validate = checks.required(checks.checkHttpsUrl);

		interfaceOption(s, 'ipv4_interface', _('IPv4 interface'),
			_('The logical interface whose IPv4 address is published (usually "wan"). Its ifup and ' +
			  'address changes trigger an update.'), 'wan');

		interfaceOption(s, 'ipv6_interface', _('IPv6 interface'),
			_('The logical interface whose IPv6 address is published (usually "wan6").'), 'wan6');

		interfaceOption(s, 'lan_interface', _('LAN interface'),
			_('The interface that receives the delegated IPv6 prefix (usually "lan"). Host names with an ' +
			  'IPv6 suffix are published as that prefix plus the suffix.'), 'lan');

		o = s.taboption('general', form.ListValue, 'log_level', _('Log level'),
			_('How much is written to the system log (logread). Messages never contain the key.'));
		o.value('error', _('Errors only'));
		o.value('warn', _('Warnings and errors'));
		o.value('info', _('Information (updates and their results)'));
		o.value('debug', _('Debug (every check)'));
		o.default = 'info';
		o.validate = checks.optional((v) => checks.LOG_LEVELS.indexOf(v) >= 0 ? true : _('Choose one of the listed levels'));

		o = s.taboption('advanced', form.Value, 'check_interval', _('Check interval (minutes)'),
			_('How often the addresses are compared with what was published, as a safety net for changes ' +
			  'that raise no interface event (e.g. behind a modem). Nothing is sent when nothing changed.'));
		o.placeholder = '10';
		o.validate = checks.optional((v) => checks.checkUint('check_interval', v));

		o = s.taboption('advanced', form.Value, 'force_interval', _('Force interval (hours)'),
			_('Send an update at least this often even if nothing changed, to confirm the records.'));
		o.placeholder = '24';
		o.validate = checks.optional((v) => checks.checkUint('force_interval', v));

		o = s.taboption('advanced', form.Value, 'connect_timeout', _('Connect timeout (seconds)'),
			_('How long to wait for the endpoint to accept the connection.'));
		o.placeholder = '10';
		o.validate = checks.optional((v) => checks.checkUint('connect_timeout', v));

		o = s.taboption('advanced', form.Value, 'timeout', _('Request timeout (seconds)'),
			_('How long one update request may take in total before it counts as a transient failure.'));
		o.placeholder = '30';
		o.validate = checks.optional((v) => checks.checkUint('timeout', v));

		o = s.taboption('advanced', form.Value, 'ca_file', _('CA certificate file'),
			_('A PEM file of certificate authorities to trust for the endpoint instead of the system ' +
			  'bundle /etc/ssl/certs/ca-certificates.crt (package ca-bundle), inside /etc/route53-ddns/. ' +
			  'Leave empty for a public endpoint such as a Lambda function URL.'));
		o.placeholder = '/etc/route53-ddns/ca.pem';
		o.validate = checks.optional(checks.checkPath);

		s = m.section(form.TableSection, 'host', _('Host names'),
			_('One row per DNS name to keep up to date. Each name must also be registered for this router\'s ' +
			  'key on the endpoint: see the provisioning command on the Status tab.'));
		s.anonymous = true;
		s.addremove = true;
		s.sortable = false;

		o = s.option(form.Value, 'name', _('Host name'),
			_('Fully qualified name inside your hosted zone, e.g. home.example.com.'));
		o.placeholder = 'home.example.com';
		o.rmempty = false;
		o.validate = function(section_id, value) {
			const valid = checks.required(checks.checkHostname)(section_id, value);

			if (valid !== true)
				return valid;

			if (this.section.cfgsections().length > checks.MAX_HOSTS)
				return _('At most %d host names fit in one update').format(checks.MAX_HOSTS);

			/* the binary refuses a name listed twice */
			const canon = value.replace(/\.$/, '').toLowerCase();
			const others = this.section.cfgsections().filter((sid) => {
				if (sid == section_id)
					return false;
				const other = this.formvalue(sid) || this.cfgvalue(sid) || '';
				return String(other).replace(/\.$/, '').toLowerCase() == canon;
			});

			return others.length ? _('This name is already listed') : true;
		};

		o = s.option(form.Flag, 'ipv4', _('IPv4 (A)'),
			_('Publish the IPv4 address as an A record.'));
		o.default = '1';
		o.rmempty = false;

		o = s.option(form.Flag, 'ipv6', _('IPv6 (AAAA)'),
			_('Publish an IPv6 address as an AAAA record.'));
		o.default = '1';
		o.rmempty = false;

		o = s.option(form.Value, 'ipv6_suffix', _('IPv6 suffix'),
			_('Empty: the router\'s own WAN IPv6 address. A suffix such as ::1234, or the host\'s MAC ' +
			  'address such as 02:11:22:33:44:55 (its EUI-64 address, needs a delegated prefix of /64 or ' +
			  'shorter), publishes a LAN host: the delegated prefix of the LAN interface plus this ' +
			  'interface identifier. Such a host still gets the router\'s public IPv4 unless IPv4 is unticked.'));
		o.placeholder = _('(router)');
		o.validate = checks.optional(checks.checkIPv6Suffix);
		o.depends('ipv6', '1');

		/* The endpoint URL is ~60 characters (a Lambda function URL): a field as wide as
		 * the theme's default (~30) would hide most of it. */
		return Promise.resolve(m.render()).then((node) => {
			if (!node || typeof node.prepend != 'function')
				return node;
			node.prepend(E('style', { 'type': 'text/css' }, [
				'.cbi-value-field input[name$=".endpoint"], .cbi-value-field input[id$=".endpoint"]' +
				'{width:100% !important;max-width:46em !important;min-width:0}'
			]));
			return node;
		});
	}
});

'use strict';
'require view';
'require form';
'require uci';
'require network';
'require tools.widgets as widgets';

/*
 * Settings for /etc/config/route53-ddns.
 *
 * Every option written here is one that `route53-ddns schema` declares, with
 * the same kind and limits; tests/luci/ checks that against the binary. The
 * validators below mirror the binary's own checks, so what the page accepts
 * the router accepts too (and the other way round).
 *
 * key_file is deliberately not editable here: the private key never passes
 * through the web interface, not even its location.
 */

const LIMITS = {
	check_interval: [ 1, 1440 ],
	force_interval: [ 1, 720 ],
	connect_timeout: [ 1, 120 ],
	timeout: [ 1, 300 ]
};

const LOG_LEVELS = [ 'error', 'warn', 'info', 'debug' ];

/* protocol::MAX_HOSTS: the names one signed update may carry */
const MAX_HOSTS = 20;

function byteLength(s) {
	return new TextEncoder().encode(s).length;
}

/*
 * Same rules as the protocol crate's hostname::canonical_record(): a host
 * name, or a wildcard whose whole first label is '*' (*.home.example.com).
 */
function checkHostname(value) {
	let name = value;

	if (name.endsWith('.'))
		name = name.slice(0, -1);

	if (name.length == 0)
		return _('Enter a host name such as home.example.com');

	if (byteLength(name) > 253)
		return _('The name is longer than 253 characters');

	const labels = name.split('.');
	const first = (labels[0] == '*' && labels.length > 1) ? 1 : 0;

	for (let i = first; i < labels.length; i++) {
		const label = labels[i];

		if (label.length == 0)
			return _('The name has an empty label (two dots in a row)');

		if (byteLength(label) > 63)
			return _('The label "%s" is longer than 63 characters').format(label);

		const bad = label.match(/[^\p{Alphabetic}\p{N}-]/u);

		if (bad)
			return (bad[0] == '*')
				? _('A * may only be the whole first label of a name (*.example.com)')
				: _('The character "%s" is not allowed (letters, digits and "-" only)').format(bad[0]);

		if (label.startsWith('-') || label.endsWith('-'))
			return _('The label "%s" starts or ends with "-"').format(label);
	}

	if (labels.length - first < 2)
		return _('The name is not fully qualified (write it as host.example.com)');

	return true;
}

/*
 * The endpoint is a base URL: https://host[:port] with an optional trailing
 * slash, no path, query, fragment or credentials (as the binary's
 * parse_endpoint() wants it).
 */
function checkHttpsUrl(value) {
	if (!value.startsWith('https://'))
		return _('The endpoint must be an https:// URL');

	let authority = value.slice(8);

	if (authority.endsWith('/'))
		authority = authority.slice(0, -1);

	if (/[/?#]/.test(authority))
		return _('The endpoint must not have a path: use the base URL the deployment printed (ending in .on.aws/ or your API domain)');

	if (authority.indexOf('@') >= 0)
		return _('The endpoint must not contain credentials: requests are signed with the router key');

	let host, port;

	if (authority.startsWith('[')) {
		const close = authority.indexOf(']');

		if (close < 0)
			return _('Unbalanced [ in the endpoint');

		host = authority.slice(1, close);
		port = authority.slice(close + 1);

		if (port != '' && !port.startsWith(':'))
			return _('The endpoint\'s port is not a number from 1 to 65535');

		port = (port == '') ? null : port.slice(1);
	}
	else {
		const colon = authority.lastIndexOf(':');

		host = (colon < 0) ? authority : authority.slice(0, colon);
		port = (colon < 0) ? null : authority.slice(colon + 1);
	}

	if (port != null && !(/^\+?[0-9]+$/.test(port) && +port >= 1 && +port <= 65535))
		return _('The endpoint\'s port is not a number from 1 to 65535');

	if (host == '' || !/^[A-Za-z0-9.:_-]+$/.test(host))
		return _('"%s" is not a valid host in the endpoint').format(host);

	return true;
}

/* Parses an IPv6 address (also with a dotted IPv4 tail) into 8 16-bit words, or returns null. */
function parseIPv6(value) {
	let text = value;
	const v4 = text.match(/^(.*:)(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/);

	if (v4) {
		const b = v4.slice(2).map(Number);

		if (b.some((x, i) => x > 255 || (v4[i + 2].length > 1 && v4[i + 2][0] == '0')))
			return null;

		text = v4[1] + ((b[0] << 8) | b[1]).toString(16) + ':' + ((b[2] << 8) | b[3]).toString(16);
	}

	if (!/^[0-9a-fA-F:]+$/.test(text) || text.indexOf(':::') >= 0)
		return null;

	const halves = text.split('::');

	if (halves.length > 2)
		return null;

	const head = halves[0] ? halves[0].split(':') : [];
	const tail = (halves.length == 2 && halves[1]) ? halves[1].split(':') : [];

	if (halves.length == 1 ? head.length != 8 : head.length + tail.length > 7)
		return null;

	const words = [];
	const parse = (part) => {
		if (!/^[0-9a-fA-F]{1,4}$/.test(part))
			return false;
		words.push(parseInt(part, 16));
		return true;
	};

	if (!head.every(parse))
		return null;

	for (let i = head.length + tail.length; i < 8; i++)
		words.push(0);

	if (!tail.every(parse))
		return null;

	return words;
}

/*
 * A MAC address in the forms the binary's host_id.rs reads: aa:bb:cc:dd:ee:ff,
 * aa-bb-cc-dd-ee-ff (one kind of separator) or aabb.ccdd.eeff, either case.
 * Returns its 6 bytes, or null when the text is not MAC-shaped.
 */
function parseMAC(value) {
	let hex;

	if (/^[0-9a-fA-F]{2}([:-])[0-9a-fA-F]{2}(\1[0-9a-fA-F]{2}){4}$/.test(value))
		hex = value.replace(/[:-]/g, '');
	else if (/^[0-9a-fA-F]{4}\.[0-9a-fA-F]{4}\.[0-9a-fA-F]{4}$/.test(value))
		hex = value.replace(/\./g, '');
	else
		return null;

	const bytes = [];

	for (let i = 0; i < 12; i += 2)
		bytes.push(parseInt(hex.slice(i, i + 2), 16));

	return bytes;
}

/*
 * A LAN host under the delegated prefix: a MAC address (its modified EUI-64 becomes the
 * interface identifier) or an interface identifier such as ::1234 or
 * ::211:32ff:fe12:3456, whose upper 64 bits must be zero and lower not.
 */
function checkIPv6Suffix(value) {
	const mac = parseMAC(value);

	if (mac) {
		if (mac[0] & 1)
			return _('A multicast or broadcast MAC address is not the address of a host\'s interface');

		if (mac.every((b) => b == 0))
			return _('The all-zero MAC address names no host');

		return true;
	}

	const words = parseIPv6(value);

	if (!words)
		return _('Write an IPv6 interface identifier such as ::1234, or the host\'s MAC address such as 02:11:22:33:44:55');

	if (words[0] || words[1] || words[2] || words[3])
		return _('Only the last 64 bits may be set (the suffix is added to the delegated /64 prefix)');

	if (!(words[4] || words[5] || words[6] || words[7]))
		return _('The suffix ::0 names no host');

	return true;
}

function checkUint(name, value) {
	const min = LIMITS[name][0];
	const max = LIMITS[name][1];

	if (!/^\+?[0-9]+$/.test(value) || +value < min || +value > max)
		return _('Enter a whole number from %d to %d').format(min, max);

	return true;
}

/*
 * The binary takes ca_file (and key_file) only inside /etc/route53-ddns/, with no
 * "." or ".." segments (values::check_confined): a user of this page must not
 * choose whom the router trusts with a file uploaded elsewhere.
 */
const CA_DIR = '/etc/route53-ddns/';

function checkPath(value) {
	const rest = value.startsWith(CA_DIR) ? value.slice(CA_DIR.length) : null;

	if (rest == null || rest == '' || rest.split('/').some((seg) => seg == '' || seg == '.' || seg == '..'))
		return _('Enter a file inside %s, e.g. %sca.pem').format(CA_DIR, CA_DIR);

	return true;
}

/* Wraps a check so that an empty optional value passes. */
function optional(check) {
	return function(section_id, value) {
		return (value == null || value === '') ? true : check(value);
	};
}

function required(check) {
	return function(section_id, value) {
		return (value == null || value === '') ? _('This value is required') : check(value);
	};
}

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
		o.validate = required(checkHttpsUrl);

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
		o.validate = optional((v) => LOG_LEVELS.indexOf(v) >= 0 ? true : _('Choose one of the listed levels'));

		o = s.taboption('advanced', form.Value, 'check_interval', _('Check interval (minutes)'),
			_('How often the addresses are compared with what was published, as a safety net for changes ' +
			  'that raise no interface event (e.g. behind a modem). Nothing is sent when nothing changed.'));
		o.placeholder = '10';
		o.validate = optional((v) => checkUint('check_interval', v));

		o = s.taboption('advanced', form.Value, 'force_interval', _('Force interval (hours)'),
			_('Send an update at least this often even if nothing changed, to confirm the records.'));
		o.placeholder = '24';
		o.validate = optional((v) => checkUint('force_interval', v));

		o = s.taboption('advanced', form.Value, 'connect_timeout', _('Connect timeout (seconds)'),
			_('How long to wait for the endpoint to accept the connection.'));
		o.placeholder = '10';
		o.validate = optional((v) => checkUint('connect_timeout', v));

		o = s.taboption('advanced', form.Value, 'timeout', _('Request timeout (seconds)'),
			_('How long one update request may take in total before it counts as a transient failure.'));
		o.placeholder = '30';
		o.validate = optional((v) => checkUint('timeout', v));

		o = s.taboption('advanced', form.Value, 'ca_file', _('CA certificate file'),
			_('A PEM file of certificate authorities to trust for the endpoint instead of the system ' +
			  'bundle /etc/ssl/certs/ca-certificates.crt (package ca-bundle), inside /etc/route53-ddns/. ' +
			  'Leave empty for a public endpoint such as a Lambda function URL.'));
		o.placeholder = '/etc/route53-ddns/ca.pem';
		o.validate = optional(checkPath);

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
			const valid = required(checkHostname)(section_id, value);

			if (valid !== true)
				return valid;

			if (this.section.cfgsections().length > MAX_HOSTS)
				return _('At most %d host names fit in one update').format(MAX_HOSTS);

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
		o.validate = optional(checkIPv6Suffix);
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

'use strict';
'require baseclass';

/*
 * The checks of the Settings page's values: the same rules, limits and messages as the
 * binary's own (`route53-ddns check`), so what the page accepts the router accepts too
 * (and the other way round). tests/luci/ compares the verdicts with the binary's.
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

return baseclass.extend({
	LOG_LEVELS: LOG_LEVELS,
	MAX_HOSTS: MAX_HOSTS,
	checkHostname: checkHostname,
	checkHttpsUrl: checkHttpsUrl,
	checkIPv6Suffix: checkIPv6Suffix,
	checkPath: checkPath,
	checkUint: checkUint,
	optional: optional,
	required: required
});

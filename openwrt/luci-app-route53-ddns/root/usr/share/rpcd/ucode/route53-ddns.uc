#!/usr/bin/env ucode
// rpcd backend of luci-app-route53-ddns: ubus object "luci.route53-ddns".
//
// Three methods, each running /usr/sbin/route53-ddns with a FIXED command
// line: nothing from UCI, from the request or from the environment is ever
// added to a command, so no configuration value can reach a shell.
//   status  -> route53-ddns status --json   (parsed and returned as is)
//   pubkey  -> route53-ddns pubkey          (only a well-formed key id is returned)
//   update  -> route53-ddns update --force --detach
//              (returns at once; the run goes on in its own session with no
//              descriptor of rpcd's; during a run it queues one more pass, as
//              hotplug events do; the page polls status)
// The private key file is never opened here and no method returns it.

'use strict';

import { popen, access } from 'fs';

const BIN = '/usr/sbin/route53-ddns';
const STATUS_CMD = '/usr/sbin/route53-ddns status --json 2>/dev/null';
const PUBKEY_CMD = '/usr/sbin/route53-ddns pubkey 2>/dev/null';
const UPDATE_ARGV = [ BIN, 'update', '--force', '--detach' ];
const MAX_OUTPUT = 262144;

// Runs one of the constant command lines above and returns its output and exit code.
function run(cmd) {
	const fd = popen(cmd, 'r');

	if (!fd)
		return { code: -1, out: '' };

	const out = fd.read(MAX_OUTPUT) ?? '';
	const code = fd.close();

	return { code: code, out: out };
}

function installed() {
	return access(BIN, 'x');
}

const methods = {
	status: {
		call: function() {
			if (!installed())
				return { error: 'route53-ddns is not installed' };

			const res = run(STATUS_CMD);
			let st = null;

			try {
				st = json(res.out);
			}
			catch (e) {
				st = null;
			}

			if (type(st) != 'object')
				return { error: sprintf('route53-ddns status failed (exit code %d)', res.code) };

			return st;
		}
	},

	pubkey: {
		call: function() {
			if (!installed())
				return { error: 'route53-ddns is not installed' };

			// The first line is the key id; the lines after it repeat the
			// registration hint, which the page builds itself.
			const res = run(PUBKEY_CMD);
			const key = trim(split(res.out ?? '', '\n')[0]);

			// An Ed25519 public key in unpadded base64url: exactly 43 characters.
			if (res.code != 0 || !match(key, /^[A-Za-z0-9_-]{43}$/))
				return { error: sprintf('no key (route53-ddns pubkey exit code %d)', res.code) };

			return { key_id: key };
		}
	},

	update: {
		call: function() {
			if (!installed())
				return { error: 'route53-ddns is not installed' };

			// --detach: the binary forks into its own session, closes every
			// descriptor it inherited from rpcd and returns at once. A run in
			// progress is not refused: it makes one more pass for this click.
			const code = system(UPDATE_ARGV, 5000);

			if (code == 0)
				return { started: true };

			return { error: sprintf('could not start an update, exit code %d', code) };
		}
	}
};

return { 'luci.route53-ddns': methods };

"""Routers and products that cannot run here, set up as docs/clients.md says (the settings
are read from the guide): the request each sends, as its own documentation or source
describes it, is replayed against the local endpoint over HTTPS, and its answer is judged
the way the product judges it. Sources, per product:

- pfSense: src/etc/inc/dyndns.class in github.com/pfsense/pfsense, updatedns::_update and
  ::_checkStatus, case 'custom': GET of the Update URL with %IP% replaced, credentials by
  CURLOPT_USERPWD (Basic); success only if one `|`-separated part of the Result Match, with
  %IP% replaced, strcmp-equals the answer trimmed of "\\t\\n\\r".
- Fritz!Box: AVM, "Setting up dynamic DNS in the FRITZ!Box" (en.avm.de/service/knowledge-base/
  dok/FRITZ-Box-3272-int/30_Setting-up-dynamic-DNS-in-the-FRITZ-Box/) and the FRITZ!Box help
  "DynDNS" (service.avm.de/help/en/FRITZ-Box-Fon-WLAN-7490/018/hilfe_dyndns): a GET of the
  user-defined URL with <domain>, <ipaddr>, <ip6addr>, <username>, <pass> filled in.
- Synology: DSM help "DDNS" (kb.synology.com/en-global/DSM/help/DSM/AdminCenter/connection_ddns),
  Customize Provider: a GET of the Query URL with __HOSTNAME__, __MYIP__, __USERNAME__,
  __PASSWORD__ filled in.
- MikroTik: RouterOS manual, "Fetch" (help.mikrotik.com/docs/display/ROS/Fetch): `url`, `user`,
  `password` (HTTP authentication), `output=user`.
- UniFi OS: its Dynamic DNS runs inadyn with -C (blog.jjhayes.net/wp/2022/05/19/dynamic-dns-
  ddns-on-the-ubiquiti-udm-se); inadyn's custom provider (inadyn.conf(5)): GET of the server's
  path with %h and %i replaced, HTTP/1.0, Basic auth.
- EdgeOS: runs ddclient (Ubiquiti, "EdgeRouter - Custom Dynamic DNS"); ddclient's dyndns2
  request (nic_dyndns2_update in github.com/ddclient/ddclient): GET
  /nic/update?system=dyndns&hostname=..&myip=.. with Basic auth.
- OPNsense, native backend: dns/ddclient/src/opnsense/scripts/ddclient/lib/account/dyndns2.py
  in github.com/opnsense/plugins: GET https://<server>/nic/update with hostname, myip,
  wildcard=NOCHG, Basic auth, User-Agent OPNsense-dyndns.
- OpenWrt ddns-scripts: send_update in net/ddns-scripts/files/usr/lib/ddns/
  dynamic_dns_functions.sh (github.com/openwrt/packages): [USERNAME], [PASSWORD], [DOMAIN],
  [IP] replaced in the provider's URL, fetched (curl here), success if
  `grep -i -E "<answer>"` finds the pattern in the answer. (Replayed here so that CI checks
  it; test_ddns_scripts.py runs the real scripts when their sources are given.)
"""

import base64
import json
import re
import shutil
import ssl
import subprocess
import urllib.parse

from clients_doc import block, endpoint, fields, fill, new_account, section
from stack import REPO, http_request

EMPTY = {"A": [], "AAAA": [], "TTL": None, "TXT": []}


def get(stack, url, user=None, token=None, headers=None):
    h = dict(headers or {})
    if user is not None:
        h["Authorization"] = "Basic " + base64.b64encode(f"{user}:{token}".encode()).decode()
    return http_request(url, headers=h, context=ssl.create_default_context(cafile=str(stack.ca_file)))


# --- pfSense --------------------------------------------------------------------------------------

def pfsense_success(result_match: str, ip: str, answer: str) -> bool:
    """pfSense's test of a Custom answer (dyndns.class, _checkStatus, case 'custom')."""
    parts = re.split(r"(?<!\\)\|", result_match.replace("%IP%", ip))
    return any(p.replace("\\|", "|") == answer.strip("\t\n\r") for p in parts)


def pfsense_run(stack, acct, ip):
    f = {k: fill(v, endpoint(stack), *acct) for k, v in fields("pfsense").items()}
    assert f["Service Type"] == "Custom"
    r = get(stack, f["Update URL"].replace("%IP%", ip), f["Username"], f["Password"])
    return r, pfsense_success(f["Result Match"], ip, r.text)


def test_pfsense_reports_success_and_so_caches_for_an_a_only_name(stack):
    acct = user, token, name = new_account(stack)
    r, ok = pfsense_run(stack, acct, "192.0.2.100")
    assert (r.status, r.text, ok) == (200, "good 192.0.2.100", True)
    r, ok = pfsense_run(stack, acct, "192.0.2.100")
    assert (r.text, ok) == ("nochg 192.0.2.100", True)
    assert stack.records(name)["A"] == ["192.0.2.100"]
    assert not pfsense_success("good|nochg", "192.0.2.100", r.text), "the old guide's match"
    r, ok = pfsense_run(stack, (user, "not-the-token", name), "192.0.2.101")
    assert (r.text, ok) == ("badauth", False)


def test_pfsense_custom_v6_reports_success_for_an_aaaa_only_name(stack):
    acct = user, token, name = new_account(stack)
    r, ok = pfsense_run(stack, acct, "2001:db8::101")
    assert (r.text, ok) == ("good 2001:db8::101", True)


def test_pfsense_keeps_a_dual_stack_name_with_a_custom_and_a_custom_v6_entry(stack):
    """The guide's two entries for one dual-stack name: each answer echoes only the family
    it sent, so each entry's Result Match matches and each caches."""
    acct = user, token, name = new_account(stack)
    stack.set_records(name, "AAAA", ["2001:db8::100"])
    r, ok = pfsense_run(stack, acct, "192.0.2.102")
    assert (r.text, ok) == ("good 192.0.2.102", True)
    r, ok = pfsense_run(stack, acct, "2001:db8::102")
    assert (r.text, ok) == ("good 2001:db8::102", True)
    r, ok = pfsense_run(stack, acct, "192.0.2.102")
    assert (r.text, ok) == ("nochg 192.0.2.102", True)
    rec = stack.records(name)
    assert (rec["A"], rec["AAAA"]) == (["192.0.2.102"], ["2001:db8::102"])
    assert '"Custom (v6)"' in section("## pfSense")


# --- Fritz!Box, Synology, MikroTik ---------------------------------------------------------------

def test_fritzbox_dual_stack_then_an_ipv4_only_line(stack):
    acct = user, token, name = new_account(stack)
    f = {k: fill(v, endpoint(stack), *acct) for k, v in fields("fritzbox").items()}

    def update(ip4, ip6):
        url = f["Update URL"]
        for k, v in {"<domain>": f["Domain name"], "<username>": f["User name"],
                     "<pass>": f["Password"], "<ipaddr>": ip4, "<ip6addr>": ip6}.items():
            url = url.replace(k, v)
        return get(stack, url)

    r = update("192.0.2.103", "2001:db8::103")
    assert (r.status, r.text) == (200, "good 192.0.2.103,2001:db8::103")
    r = update("192.0.2.104", "")
    assert r.text == "good 192.0.2.104", "an empty <ip6addr> leaves AAAA alone (and is not echoed)"
    assert stack.records(name)["AAAA"] == ["2001:db8::103"]
    assert token not in stack.lambda_log()


def test_synology_query_url(stack):
    acct = user, token, name = new_account(stack)
    url = fill(block("synology"), endpoint(stack), *acct).strip()
    for k, v in {"__HOSTNAME__": name, "__MYIP__": "192.0.2.105", "__USERNAME__": user,
                 "__PASSWORD__": token}.items():
        url = url.replace(k, v)
    r = get(stack, url)
    assert (r.status, r.text) == (200, "good 192.0.2.105")
    assert get(stack, url).text == "nochg 192.0.2.105"


def test_mikrotik_fetch_with_user_and_password(stack):
    acct = user, token, name = new_account(stack)
    script = fill(block("mikrotik"), endpoint(stack), *acct)
    m = re.search(r'url=\("([^"]+)" \. \$ip\) user=(\S+) password=(\S+) output=user', script)
    assert m, script
    url = m.group(1) + "192.0.2.106"
    r = get(stack, url)  # no credentials yet: the challenge fetch answers
    assert r.status == 401 and r.headers["www-authenticate"].startswith("Basic")
    r = get(stack, url, m.group(2), m.group(3))
    assert (r.status, r.text) == (200, "good 192.0.2.106")
    assert stack.records(name)["A"] == ["192.0.2.106"]


# --- UniFi, EdgeOS, OPNsense (native) ------------------------------------------------------------

def test_unifi_custom_server_as_inadyn_sends_it(stack):
    acct = user, token, name = new_account(stack)
    f = {k: fill(v, endpoint(stack), *acct) for k, v in fields("unifi").items()}
    host, _, path = f["Server"].partition("/")
    path = "/" + path.replace("%h", f["Hostname"]).replace("%i", "192.0.2.107")
    r = get(stack, f"https://{host}{path}", f["Username"], f["Password"],
            {"User-Agent": "inadyn/2.10.0 https://github.com/troglobit/inadyn/issues"})
    assert (r.status, r.text) == (200, "good 192.0.2.107")


def test_edgeos_custom_service_as_ddclient_sends_it(stack):
    acct = user, token, name = new_account(stack)
    cfg = {}
    for line in fill(block("edgeos"), endpoint(stack), *acct).splitlines():
        words = line.split()
        cfg[words[-2]] = words[-1]
    assert cfg["protocol"] == "dyndns2"
    q = f"system=dyndns&hostname={cfg['host-name']}&myip=192.0.2.108"
    r = get(stack, f"https://{cfg['server']}/nic/update?{q}", cfg["login"], cfg["password"],
            {"User-Agent": "ddclient/3.9.1"})
    assert (r.status, r.text) == (200, "good 192.0.2.108")


def test_opnsense_native_backend_request(stack):
    acct = user, token, name = new_account(stack)
    guide = section("### ddclient 3.11 and 4.x (Debian 13, OPNsense's ddclient backend)")
    assert 'Protocol "DynDns2", Server `ENDPOINT`' in guide
    q = urllib.parse.urlencode({"hostname": name, "myip": "192.0.2.109", "wildcard": "NOCHG"})
    r = get(stack, f"https://{endpoint(stack)}/nic/update?{q}", user, token,
            {"User-Agent": "OPNsense-dyndns"})
    assert (r.status, r.text.split()[0]) == (200, "good")
    r = get(stack, f"https://{endpoint(stack)}/nic/update?{q}", user, "not-the-token")
    assert (r.status, r.text.split()[0]) == (200, "badauth"), "what the native backend shows"


# --- OpenWrt ddns-scripts ------------------------------------------------------------------------

def ddns_scripts_update(stack, tmp_path, acct, family, ip):
    """send_update(): the provider URL with its placeholders replaced, fetched with curl; then
    the answer pattern as `grep -i -E` applies it. Returns (answer, accepted)."""
    assert shutil.which("busybox") and shutil.which("curl")
    user, token, name = acct
    provider = json.loads(block("ddns-scripts.json").replace("ENDPOINT", endpoint(stack)))
    url = provider[family]["url"]
    for k, v in {"[USERNAME]": user, "[PASSWORD]": token, "[DOMAIN]": name, "[IP]": ip}.items():
        url = url.replace(k, v)
    answer_file = tmp_path / "ddns_answer"
    subprocess.run(["curl", "-sS", "--max-time", "60", "--cacert", str(stack.ca_file),
                    "-o", str(answer_file), url], check=True, timeout=90)
    grep = subprocess.run(["busybox", "grep", "-i", "-E", provider[family]["answer"], str(answer_file)],
                          capture_output=True, timeout=10)
    return answer_file.read_text(), grep.returncode == 0


def test_ddns_scripts_provider_file_accepts_good_and_nochg_only(stack, tmp_path):
    acct = user, token, name = new_account(stack)
    assert ddns_scripts_update(stack, tmp_path, acct, "ipv4", "192.0.2.110") == (
        "good 192.0.2.110", True)
    assert ddns_scripts_update(stack, tmp_path, acct, "ipv6", "2001:db8::110") == (
        "good 2001:db8::110", True)
    assert ddns_scripts_update(stack, tmp_path, acct, "ipv4", "192.0.2.110") == (
        "nochg 192.0.2.110", True)
    bad = (user, "not-the-token", name)
    assert ddns_scripts_update(stack, tmp_path, bad, "ipv4", "192.0.2.111") == ("badauth", False)
    stack.throttle(1000)
    try:
        assert ddns_scripts_update(stack, tmp_path, acct, "ipv4", "192.0.2.111") == ("911", False)
    finally:
        stack.throttle(0)


def test_ddns_scripts_config_enables_a_v4_and_a_v6_section():
    sections, current = [], None
    for line in block("ddns-scripts.uci").splitlines():
        words = line.split(None, 2)
        if words and words[0] == "config":
            current = {"type": words[1]}
            sections.append(current)
        elif words and words[0] == "option":
            current[words[1]] = words[2].strip("'")
    services = [s for s in sections if s["type"] == "service"]
    assert sorted(s["use_ipv6"] for s in services) == ["0", "1"]
    for s in services:
        assert s["enabled"] == "1" and s["service_name"] == "route53-ddns"
        assert s["domain"] == s["lookup_host"] == "nas.example.com"
        assert (s["username"], s["password"], s["use_https"]) == ("nas", "TOKEN", "1")
        assert "cacert" not in s


# --- the guide's table of answers ----------------------------------------------------------------

DYNDNS2_CODES = {"good", "nochg", "badauth", "!donator", "notfqdn", "nohost", "numhost", "abuse",
                 "badagent", "dnserr", "911", "!yours", "!active", "badsys"}


def test_the_answer_table_lists_every_answer_the_endpoint_gives():
    code = "".join(f.read_text() for f in sorted((REPO / "lambda" / "src").glob("*.rs")))
    given = {c for c in DYNDNS2_CODES if f'"{c}"' in code}
    table = section("## What the endpoint answers")
    listed = {m.split()[0] for m in re.findall(r"^\| `([^`]+)` \|", table, re.M)}
    assert given == listed

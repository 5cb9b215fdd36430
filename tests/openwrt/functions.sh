# TEST STAND-IN for OpenWrt's /lib/functions.sh, which the real hotplug-call
# sources before every hotplug script: not its code, only names it defines in
# the shell the scripts run in (variables and a few helpers with the same
# names), so that a script under test runs with them present, as on a router.
N="
"
NO_EXPORT=1
LOAD_STATE=1
LIST_SEP=" "
# append VAR VALUE [SEP]: VAR gets VALUE added, SEP between (default " ").
append() {
	local cur
	eval "cur=\${$1}"
	eval "$1=\${cur:+\$cur\${3:- }}\$2"
}
# list_contains VAR WORD: is WORD one of the space-separated words in VAR?
list_contains() {
	local w
	eval "set -- \$2 \${$1}"
	w="$1"
	shift
	for x in "$@"; do [ "$x" = "$w" ] && return 0; done
	return 1
}
config_load() { return 0; }
config_get() { eval "$1=\${4:-}"; }
config_foreach() { return 0; }

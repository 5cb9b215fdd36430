# TEST STAND-IN for the OpenWrt SDK's rules.mk: only what openwrt/route53-ddns/Makefile
# uses, with the SDK's install commands (include/package-defaults.mk: INSTALL_*).
INSTALL_DIR:=install -d -m0755
INSTALL_BIN:=install -m0755
INSTALL_CONF:=install -m0600
INSTALL_DATA:=install -m0644

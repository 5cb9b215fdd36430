# TEST STAND-IN for the SDK's include/package.mk. `make -C openwrt/route53-ddns
# TOPDIR=<this dir> INCLUDE_DIR=<this dir>/include STUB_OUT=<dir> STUB_BIN=<binary>` runs
# Build/Prepare into $(STUB_OUT)/build and the package's install section into
# $(STUB_OUT)/ipkg, and writes the package's variables to $(STUB_OUT)/vars.
PKG_BUILD_DIR=$(STUB_OUT)/build/$(PKG_NAME)-$(PKG_VERSION)
PKG_INSTALL_DIR=$(PKG_BUILD_DIR)/ipkg-install

define BuildPackage
  $(eval $(Package/$(1)))
stub-package:
	rm -rf $(STUB_OUT)/build $(STUB_OUT)/ipkg
	$$(Build/Prepare)
	$(INSTALL_DIR) $$(PKG_INSTALL_DIR)/bin
	$(INSTALL_BIN) $(STUB_BIN) $$(PKG_INSTALL_DIR)/bin/$(1)
	$(INSTALL_DIR) $(STUB_OUT)/ipkg
	$$(call Package/$(1)/install,$(STUB_OUT)/ipkg)
	printf '%s\n' 'PKG_NAME=$(PKG_NAME)' 'PKG_VERSION=$(PKG_VERSION)' \
		'PKG_RELEASE=$(PKG_RELEASE)' 'PKG_LICENSE=$(PKG_LICENSE)' \
		'PKG_BUILD_DEPENDS=$(PKG_BUILD_DEPENDS)' 'DEPENDS=$(strip $(DEPENDS))' \
		'SECTION=$(SECTION)' 'CATEGORY=$(CATEGORY)' 'TITLE=$(TITLE)' \
		'CONFFILES=$$(strip $$(Package/$(1)/conffiles))' \
		'RUST_BIN_PACKAGE=$$(RUST_BIN_PACKAGE)' > $(STUB_OUT)/vars
endef

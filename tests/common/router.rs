//! A router set up in a fresh directory: its key, a config for one endpoint and one host
//! (`home.example.com`) trusting a test CA, and an empty state store.

use super::TempDir;
use route53_ddns::config::Config;
use route53_ddns::state::Store;

pub struct Router {
    pub dir: TempDir,
    pub config: Config,
    pub key: route53_ddns_protocol::SigningKey,
    pub store: Store,
}

/// `endpoint` is `host:port`; `options` are more `\toption name 'value'` lines of the
/// global section (timeouts, force interval).
pub fn router(tag: &str, endpoint: &str, ca_pem: &str, options: &str) -> Router {
    let dir = TempDir::new(tag);
    let ca = dir.write("ca.pem", ca_pem);
    let key_path = dir.join("key");
    let key = route53_ddns::key::generate(&key_path, false).expect("keygen");
    let cfg = dir.write(
        "config",
        &format!(
            "config global 'global'\n\toption enabled '1'\n\toption endpoint 'https://{endpoint}'\n\toption key_file '{}'\n\toption ca_file '{}'\n{options}\nconfig host\n\toption name 'home.example.com'\n",
            key_path.display(),
            ca.display()
        ),
    );
    let (config, _) = Config::load(&cfg).expect("valid config");
    let store = Store::new(dir.join("state"));
    store.ensure_dir().expect("state dir");
    Router {
        dir,
        config,
        key,
        store,
    }
}

fn main() {
    std::process::exit(route53_ddns::cli::main());
}

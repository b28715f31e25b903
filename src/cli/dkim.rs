//! `courtesy dkim`: key management for re-signing rewritten mail.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use crate::dkim::verify::{KeyTable, verify_dkim};
use crate::dkim::{KeyAlgorithm, keys};

/// Arguments of `courtesy dkim`.
#[derive(Debug, clap::Args)]
pub struct DkimArgs {
    #[command(subcommand)]
    command: DkimCommand,
}

#[derive(Debug, clap::Subcommand)]
enum DkimCommand {
    /// Generate a signing key pair and print the DNS TXT record to publish.
    Keygen(KeygenArgs),
    /// Verify the DKIM signatures of a message against DNS records given in
    /// files, without asking any name server (for checking courtesy's output
    /// before the record is published).
    Verify(VerifyArgs),
    /// Sign a message with a key file and print it with the new
    /// DKIM-Signature on top (for tests of a signing path before going live).
    Sign(SignArgs),
}

/// Arguments of `courtesy dkim sign`.
#[derive(Debug, clap::Args)]
pub struct SignArgs {
    /// PEM private key (RSA 2048+ or Ed25519).
    #[arg(long)]
    key: PathBuf,
    /// The signing domain (`d=`).
    #[arg(long)]
    domain: String,
    /// The selector (`s=`).
    #[arg(long)]
    selector: String,
    /// The message; `-` reads standard input.
    #[arg(value_name = "MESSAGE")]
    message: PathBuf,
}

/// Arguments of `courtesy dkim verify`.
#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// Zone-file lines with the public keys, as `courtesy dkim keygen` writes
    /// them (SELECTOR._domainkey.DOMAIN IN TXT "v=DKIM1; ..."); repeatable.
    #[arg(long = "records", value_name = "FILE", required = true)]
    records: Vec<PathBuf>,
    /// The message; `-` reads standard input.
    #[arg(value_name = "MESSAGE")]
    message: PathBuf,
}

/// Arguments of `courtesy dkim keygen`.
#[derive(Debug, clap::Args)]
pub struct KeygenArgs {
    /// The signing domain (`d=`), e.g. hoekstra-advies.nl.
    #[arg(long)]
    domain: String,
    /// The selector, e.g. courtesy2026; the record goes to SELECTOR._domainkey.DOMAIN.
    #[arg(long)]
    selector: String,
    /// Key algorithm; ed25519 is not yet verified by every receiver, so sign with rsa as well.
    #[arg(long, value_enum, default_value = "rsa")]
    algorithm: AlgorithmArg,
    /// RSA key size in bits (2048 to 8192).
    #[arg(long, default_value_t = 2048)]
    bits: usize,
    /// Folder for DOMAIN.SELECTOR.key (mode 0600) and DOMAIN.SELECTOR.txt.
    #[arg(long, default_value = ".")]
    out_dir: PathBuf,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum AlgorithmArg {
    Rsa,
    Ed25519,
}

/// Runs `courtesy dkim`.
pub fn run(args: DkimArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        DkimCommand::Keygen(args) => keygen(args),
        DkimCommand::Verify(args) => verify(args),
        DkimCommand::Sign(args) => sign(args),
    }
}

fn read_message(path: &std::path::Path) -> anyhow::Result<Vec<u8>> {
    if path.as_os_str() == "-" {
        let mut buffer = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut buffer)?;
        Ok(buffer)
    } else {
        std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
    }
}

/// Signs relaxed/relaxed over the header set courtesy itself signs.
fn sign(args: SignArgs) -> anyhow::Result<ExitCode> {
    use mail_auth::common::headers::HeaderWriter;
    let loaded = keys::load(&args.key)?;
    let message = read_message(&args.message)?;
    let signature = mail_auth::dkim::DkimSigner::from_key(loaded.key)
        .domain(args.domain.trim().trim_end_matches('.').to_ascii_lowercase())
        .selector(args.selector.trim())
        .headers(crate::dkim::SIGNED_HEADERS)
        .header_canonicalization(mail_auth::dkim::Canonicalization::Relaxed)
        .body_canonicalization(mail_auth::dkim::Canonicalization::Relaxed)
        .sign(&message)
        .map_err(|e| anyhow::anyhow!("cannot sign: {e}"))?;
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(signature.to_header().as_bytes())?;
    stdout.write_all(&message)?;
    Ok(ExitCode::SUCCESS)
}

/// Prints one line per signature; exit 0 only when the message has at least
/// one signature and every one of them passes.
fn verify(args: VerifyArgs) -> anyhow::Result<ExitCode> {
    let mut table = KeyTable::new();
    for path in &args.records {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let added = table.insert_zone_text(&text).with_context(|| path.display().to_string())?;
        anyhow::ensure!(added > 0, "{}: no DKIM record found", path.display());
    }
    let message = read_message(&args.message)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let verdicts = runtime.block_on(verify_dkim(&message, &table))?;
    let mut stdout = std::io::stdout().lock();
    for v in &verdicts {
        let detail = v.detail.as_deref().map(|d| format!(" ({d})")).unwrap_or_default();
        writeln!(stdout, "{} d={} s={}{detail}", v.result, v.domain, v.selector)?;
    }
    if verdicts.is_empty() {
        writeln!(stdout, "none: the message has no DKIM-Signature")?;
    }
    let all_pass = !verdicts.is_empty() && verdicts.iter().all(|v| v.passed());
    Ok(if all_pass { ExitCode::SUCCESS } else { ExitCode::from(super::EXIT_FINDINGS) })
}

fn keygen(args: KeygenArgs) -> anyhow::Result<ExitCode> {
    let domain = args.domain.trim().trim_end_matches('.').to_ascii_lowercase();
    let selector = args.selector.trim().to_string();
    let label_ok = |s: &str| {
        !s.is_empty()
            && s.split('.')
                .all(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
    };
    anyhow::ensure!(label_ok(&domain), "--domain {:?} is not a domain name", args.domain);
    anyhow::ensure!(label_ok(&selector), "--selector {:?} is not a DNS label", args.selector);
    let algorithm = match args.algorithm {
        AlgorithmArg::Rsa => KeyAlgorithm::Rsa,
        AlgorithmArg::Ed25519 => KeyAlgorithm::Ed25519,
    };
    let key = keys::generate(algorithm, args.bits)?;
    let files = keys::write_files(&args.out_dir, &domain, &selector, &key)
        .context("cannot write the key pair")?;
    let line =
        keys::dns_zone_line(&domain, &selector, &keys::dns_record(algorithm, &key.public_key));
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{line}")?;
    let mut stderr = std::io::stderr().lock();
    writeln!(stderr, "private key: {} (mode 0600)", files.private_key.display())?;
    writeln!(stderr, "DNS record:  {}", files.dns_record.display())?;
    writeln!(
        stderr,
        "Publish the record above, then add to the dkim: section:\n  {domain}:\n    selector: {selector}\n    key: {}\n    on_signed: resign",
        files.private_key.display()
    )?;
    Ok(ExitCode::SUCCESS)
}

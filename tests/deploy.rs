//! Checks of the deployment files: systemd units, container image, Kubernetes
//! manifests, Postfix snippets and the CI script.
//!
//! Where a real checker exists it is used: `systemd-analyze` for the units,
//! `postconf` for the Postfix snippets, `kubernetes-validate` (JSON schemas of
//! the Kubernetes API, bundled, no network) for the manifests. Each checker
//! test skips with a printed reason when its tool is missing on a developer's
//! machine, and fails when `CI` is set, so CI cannot go green by skipping.
//! The container image cannot be built here (no container engine), so its
//! file is checked statically.

use std::collections::BTreeSet;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

/// Drain grace period the units and manifests are sized for, in seconds.
const DRAIN_GRACE_SECS: u64 = 30;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(rel: &str) -> String {
    let path = repo().join(rel);
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn yaml(rel: &str) -> Value {
    serde_saphyr::from_str(&read(rel)).unwrap_or_else(|e| panic!("{rel} is not valid YAML: {e}"))
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false")
}

/// Finds a tool by an explicit path in `env_var`, then on `PATH`, then in
/// `fallbacks`.
fn find_tool(name: &str, env_var: Option<&str>, fallbacks: &[&str]) -> Option<PathBuf> {
    let explicit = env_var.and_then(std::env::var_os).map(PathBuf::from);
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|dir| dir.join(name));
    explicit
        .into_iter()
        .chain(on_path)
        .chain(fallbacks.iter().map(PathBuf::from))
        .find(|p| p.metadata().is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0))
}

/// A tool a check needs. `None` means: skip (a reason has been printed). In
/// CI a missing tool is a failure, since .ci/run installs them all.
fn tool(name: &str, env_var: Option<&str>, fallbacks: &[&str]) -> Option<PathBuf> {
    let found = find_tool(name, env_var, fallbacks);
    if found.is_none() {
        let reason = format!("{name} not found (install it as .ci/run does)");
        assert!(!in_ci(), "{reason}; CI must not skip this check");
        eprintln!("skipped: {reason}");
    }
    found
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Parses a duration written as `30s`, `35s`, `2min` or plain seconds.
fn seconds(value: &str) -> u64 {
    let v = value.trim();
    let (digits, unit) = v.split_at(v.find(|c: char| !c.is_ascii_digit()).unwrap_or(v.len()));
    let n: u64 = digits.parse().unwrap_or_else(|_| panic!("not a duration: {value:?}"));
    match unit {
        "" | "s" => n,
        "min" | "m" => n * 60,
        other => panic!("unknown duration unit {other:?} in {value:?}"),
    }
}

// ---------------------------------------------------------------- systemd --

/// Directives of a unit file (or drop-in) as (key, value), in order.
fn unit_directives(rel: &str) -> Vec<(String, String)> {
    read(rel)
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with('['))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect()
}

fn directive<'a>(directives: &'a [(String, String)], key: &str) -> Vec<&'a str> {
    directives.iter().filter(|(k, _)| k == key).map(|(_, v)| v.as_str()).collect()
}

const UNITS: [&str; 2] = ["courtesy.service", "courtesy-milter.service"];

/// Copies the units and their drop-in folders into a temporary folder, with
/// ExecStart pointing at a stand-in executable: `systemd-analyze verify`
/// insists that the binary exists, and the test must not need an installed
/// courtesy.
fn staged_units() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let exe = dir.path().join("courtesy");
    fs::write(&exe, "#!/bin/sh\nexit 0\n").expect("write stand-in");
    fs::set_permissions(&exe, fs::Permissions::from_mode(0o755)).expect("chmod stand-in");
    let src = repo().join("deploy/systemd");
    for entry in fs::read_dir(&src).expect("deploy/systemd") {
        let path = entry.expect("dir entry").path();
        let name = path.file_name().expect("file name").to_owned();
        if path.is_dir() {
            fs::create_dir(dir.path().join(&name)).expect("mkdir drop-in dir");
            for inner in fs::read_dir(&path).expect("drop-in dir") {
                let inner = inner.expect("dir entry").path();
                fs::copy(&inner, dir.path().join(&name).join(inner.file_name().expect("name")))
                    .expect("copy drop-in");
            }
        } else if path.extension().is_some_and(|e| e == "service") {
            let unit = fs::read_to_string(&path).expect("read unit");
            let unit = unit.replace("/usr/local/bin/courtesy", &exe.display().to_string());
            fs::write(dir.path().join(&name), unit).expect("write unit");
        }
    }
    dir
}

#[test]
fn systemd_units_pass_systemd_analyze_verify() {
    let Some(analyze) = tool("systemd-analyze", None, &[]) else { return };
    let staged = staged_units();
    let out = run(Command::new(&analyze)
        .arg("verify")
        .arg("--man=no")
        .args(UNITS.iter().map(|u| staged.path().join(u))));
    let stderr = text(&out.stderr);
    // verify reports unknown keys and bad values as warnings with exit 0, so
    // any output at all is a finding.
    assert!(out.status.success() && stderr.trim().is_empty(), "systemd-analyze verify:\n{stderr}");
}

#[test]
fn systemd_units_have_a_low_exposure_score() {
    let Some(analyze) = tool("systemd-analyze", None, &[]) else { return };
    let staged = staged_units();
    for unit in UNITS {
        let out = run(Command::new(&analyze)
            .args(["security", "--offline=yes", "--no-pager", "--threshold=20"])
            .arg(staged.path().join(unit)));
        assert!(
            out.status.success(),
            "{unit}: exposure above 2.0:\n{}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
    }
}

#[test]
fn systemd_units_are_hardened_as_documented() {
    let required = [
        ("DynamicUser", "yes"),
        ("StateDirectory", "courtesy"),
        ("ConfigurationDirectory", "courtesy"),
        ("ProtectSystem", "strict"),
        ("ProtectHome", "yes"),
        ("PrivateTmp", "yes"),
        ("PrivateDevices", "yes"),
        ("NoNewPrivileges", "yes"),
        ("RestrictAddressFamilies", "AF_INET AF_INET6 AF_UNIX"),
        ("SystemCallFilter", "@system-service"),
        ("MemoryDenyWriteExecute", "yes"),
        ("LockPersonality", "yes"),
        ("CapabilityBoundingSet", ""),
        ("AmbientCapabilities", ""),
        ("ExecReload", "/bin/kill -HUP $MAINPID"),
        ("Restart", "on-failure"),
        ("RestartPreventExitStatus", "2"),
        ("Type", "simple"),
    ];
    for unit in UNITS {
        let d = unit_directives(&format!("deploy/systemd/{unit}"));
        for (key, value) in required {
            assert!(directive(&d, key).contains(&value), "{unit}: expected {key}={value}");
        }
        let exec = directive(&d, "ExecStart");
        assert_eq!(exec.len(), 1, "{unit}: one ExecStart");
        assert!(exec[0].starts_with("/usr/local/bin/courtesy "), "{unit}: {}", exec[0]);
        // systemd's SIGKILL must come after courtesy's own drain deadline.
        let stop = seconds(directive(&d, "TimeoutStopSec")[0]);
        assert!(stop > DRAIN_GRACE_SECS && stop <= DRAIN_GRACE_SECS + 15, "{unit}: {stop}s");
    }
    let port25 = unit_directives("deploy/systemd/courtesy.service.d/port25.conf");
    assert_eq!(directive(&port25, "AmbientCapabilities"), ["CAP_NET_BIND_SERVICE"]);
    assert_eq!(directive(&port25, "CapabilityBoundingSet"), ["CAP_NET_BIND_SERVICE"]);
}

/// Every file the configs read from /run/credentials/UNIT/ is loaded by that
/// unit's credentials drop-in, and the drain grace matches the units.
#[test]
fn systemd_configs_match_their_units() {
    for (config, unit) in
        [("courtesy.yaml", "courtesy.service"), ("courtesy-milter.yaml", "courtesy-milter.service")]
    {
        let raw = read(&format!("deploy/systemd/{config}"));
        let cfg = yaml(&format!("deploy/systemd/{config}"));
        let creds = unit_directives(&format!("deploy/systemd/{unit}.d/credentials.conf"));
        let loaded: BTreeSet<&str> = directive(&creds, "LoadCredential")
            .into_iter()
            .map(|v| v.split_once(':').expect("LoadCredential=ID:PATH").0)
            .collect();
        let prefix = format!("/run/credentials/{unit}/");
        let used: BTreeSet<&str> = raw
            .match_indices(&prefix)
            .map(|(i, _)| raw[i + prefix.len()..].split_whitespace().next().unwrap_or(""))
            .collect();
        assert!(!used.is_empty(), "{config} reads no credential");
        assert!(used.is_subset(&loaded), "{config} reads {used:?}, {unit} loads {loaded:?}");
        assert_eq!(cfg["shutdown_grace"], "30s", "{config}");
        assert!(cfg["audit"]["dir"].as_str().is_some_and(|d| d.starts_with("/var/lib/courtesy/")));
        assert!(cfg["policy"].as_str().is_some_and(|p| p.starts_with("/etc/courtesy/")));
    }
}

// -------------------------------------------------------------- container --

/// Instructions of a Containerfile as (INSTRUCTION, arguments), with line
/// continuations joined and comments dropped.
fn container_instructions(rel: &str) -> Vec<(String, String)> {
    let mut joined = Vec::new();
    let mut current = String::new();
    for line in read(rel).lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('#') || (trimmed.is_empty() && current.is_empty()) {
            continue;
        }
        match trimmed.strip_suffix('\\') {
            Some(head) => {
                current.push_str(head);
                current.push(' ');
            }
            None => {
                current.push_str(trimmed);
                joined.push(std::mem::take(&mut current));
            }
        }
    }
    joined
        .into_iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let (op, args) = l.trim().split_once(char::is_whitespace).unwrap_or((l.trim(), ""));
            (op.to_ascii_uppercase(), args.trim().to_owned())
        })
        .collect()
}

#[test]
fn containerfile_builds_in_stages_and_runs_unprivileged() {
    let ins = container_instructions("deploy/container/Containerfile");
    let stages: Vec<&str> =
        ins.iter().filter(|(op, _)| op == "FROM").map(|(_, a)| a.as_str()).collect();
    assert_eq!(stages.len(), 2, "a builder and a runtime stage: {stages:?}");
    assert!(stages[0].starts_with("docker.io/library/rust:1.95-slim-bookworm AS build"));
    assert!(stages[1].starts_with("docker.io/library/debian:bookworm-slim"));

    let runtime_start = ins.iter().rposition(|(op, _)| op == "FROM").expect("FROM");
    let (builder, runtime) = ins.split_at(runtime_start);
    assert!(
        builder.iter().any(|(op, a)| op == "RUN" && a.contains("cargo build --release --locked"))
    );

    let users: Vec<&str> =
        runtime.iter().filter(|(op, _)| op == "USER").map(|(_, a)| a.as_str()).collect();
    let user = users.last().expect("the runtime stage sets USER");
    let uid = user.split(':').next().unwrap_or("");
    assert!(
        uid.parse::<u32>().is_ok_and(|n| n >= 1000),
        "USER must be a numeric non-root uid: {user}"
    );

    for (op, args) in &ins {
        assert!(op != "ADD", "use COPY; ADD fetches URLs and unpacks archives: ADD {args}");
        assert!(
            !(op == "RUN" && args.contains("curl ")),
            "nothing is downloaded at build time: {args}"
        );
    }
    for (_, args) in ins.iter().filter(|(op, _)| op == "COPY") {
        if let Some(rest) = args.strip_prefix("--from=") {
            assert!(rest.starts_with("build "), "COPY --from names the build stage: {args}");
        } else {
            let sources: Vec<&str> = args.split_whitespace().collect();
            for src in &sources[..sources.len() - 1] {
                assert!(repo().join(src).exists(), "COPY source {src} missing in the repository");
            }
        }
    }
    let exposed: BTreeSet<&str> = runtime
        .iter()
        .filter(|(op, _)| op == "EXPOSE")
        .flat_map(|(_, a)| a.split_whitespace())
        .collect();
    assert_eq!(exposed, BTreeSet::from(["2525", "8891", "9925"]));
    assert!(runtime.contains(&("VOLUME".into(), r#"["/var/lib/courtesy/audit"]"#.into())));
    let entry = runtime.iter().find(|(op, _)| op == "ENTRYPOINT").expect("ENTRYPOINT");
    assert!(entry.1.starts_with('['), "exec form, so SIGTERM reaches courtesy: {}", entry.1);

    let ignore = read("deploy/container/Containerfile.dockerignore");
    for must in ["target/", ".git/", "**/*.key"] {
        assert!(ignore.lines().any(|l| l.trim() == must), "build context must exclude {must}");
    }
}

// ------------------------------------------------------------- kubernetes --

const KUBE_DIR: &str = "deploy/kubernetes";

fn kubernetes_validate() -> Option<PathBuf> {
    tool(
        "kubernetes-validate",
        Some("KUBERNETES_VALIDATE"),
        &["/opt/courtesy-ci/venv/bin/kubernetes-validate"],
    )
}

/// Validates `files` holding `documents` resources in all. The validator
/// only warns about a kind or apiVersion it has no schema for (a typo there
/// would pass), so success needs exit 0, no warning or error, and one
/// "passed" line per resource.
fn validate(validator: &Path, files: &[PathBuf], documents: usize) -> Result<(), String> {
    let out = run(Command::new(validator).arg("--strict").args(files));
    let report = format!("{}{}", text(&out.stdout), text(&out.stderr));
    let passed = report.lines().filter(|l| l.contains(" passed for resource ")).count();
    let complaints = report.lines().any(|l| l.starts_with("WARN") || l.starts_with("ERROR"));
    if out.status.success() && !complaints && passed == documents {
        Ok(())
    } else {
        Err(format!("{passed} of {documents} resources passed:\n{report}"))
    }
}

/// The manifests kustomization.yaml lists, checked against the folder so no
/// file is left out of the base unnoticed.
fn kustomize_resources() -> Vec<PathBuf> {
    let k = yaml(&format!("{KUBE_DIR}/kustomization.yaml"));
    let listed: BTreeSet<String> = k["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .map(|r| r.as_str().expect("resource path").to_owned())
        .collect();
    let generated: BTreeSet<String> = k["configMapGenerator"]
        .as_array()
        .expect("configMapGenerator")
        .iter()
        .flat_map(|g| g["files"].as_array().expect("files").iter())
        .map(|f| f.as_str().expect("file").to_owned())
        .collect();
    let on_disk: BTreeSet<String> = fs::read_dir(repo().join(KUBE_DIR))
        .expect("deploy/kubernetes")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".yaml") && n != "kustomization.yaml")
        .collect();
    let accounted: BTreeSet<String> = listed.union(&generated).cloned().collect();
    assert_eq!(accounted, on_disk, "kustomization.yaml must list every manifest");
    listed.iter().map(|r| repo().join(KUBE_DIR).join(r)).collect()
}

#[test]
fn kubernetes_manifests_pass_schema_validation() {
    let resources = kustomize_resources();
    let Some(validator) = kubernetes_validate() else { return };
    let documents: usize = resources
        .iter()
        .map(|f| {
            let docs: Vec<Value> =
                serde_saphyr::from_multiple(&fs::read_to_string(f).expect("manifest"))
                    .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
            docs.len()
        })
        .sum();
    if let Err(report) = validate(&validator, &resources, documents) {
        panic!("deploy/kubernetes: {report}");
    }

    // Rendering also checks what only kustomize sees: the generated
    // ConfigMap and the name references rewritten to its hashed name.
    // Optional: Debian has no kustomize, and kubectl is not always present.
    let Some(kubectl) = find_tool("kubectl", None, &[]) else {
        eprintln!("kustomize rendering skipped (no kubectl); each manifest was validated alone");
        return;
    };
    let rendered = run(Command::new(kubectl).arg("kustomize").arg(repo().join(KUBE_DIR)));
    assert!(rendered.status.success(), "kubectl kustomize: {}", text(&rendered.stderr));
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("rendered.yaml");
    fs::write(&file, &rendered.stdout).expect("write rendered");
    let docs: Vec<Value> =
        serde_saphyr::from_multiple(&text(&rendered.stdout)).expect("rendered YAML");
    if let Err(report) = validate(&validator, std::slice::from_ref(&file), docs.len()) {
        panic!("rendered base: {report}");
    }
    let configmap = docs.iter().find(|d| d["kind"] == "ConfigMap").expect("generated ConfigMap");
    let name = configmap["metadata"]["name"].as_str().expect("name");
    let sts = docs.iter().find(|d| d["kind"] == "StatefulSet").expect("StatefulSet");
    let mounted = &sts["spec"]["template"]["spec"]["volumes"][0]["projected"]["sources"][0]["configMap"]
        ["name"];
    assert_eq!(mounted, name, "the StatefulSet mounts the generated ConfigMap");
}

/// A misspelt field or a wrong type must fail validation, or the test above
/// proves nothing.
#[test]
fn kubernetes_validation_rejects_broken_manifests() {
    let Some(validator) = kubernetes_validate() else { return };
    let original = read(&format!("{KUBE_DIR}/statefulset.yaml"));
    let breakages = [
        ("readOnlyRootFilesystem: true", "readOnlyRootFilesytem: true"),
        ("containerPort: 2525", "containerPort: smtp-2525"),
        ("apiVersion: apps/v1", "apiVersion: apps/v2"),
        ("kind: StatefulSet", "kind: StatefullSet"),
    ];
    let dir = tempfile::tempdir().expect("temp dir");
    for (good, bad) in breakages {
        assert!(original.contains(good), "statefulset.yaml no longer contains {good:?}");
        let file = dir.path().join("statefulset.yaml");
        fs::write(&file, original.replacen(good, bad, 1)).expect("write broken copy");
        let verdict = validate(&validator, std::slice::from_ref(&file), 1);
        assert!(verdict.is_err(), "validator accepted {bad:?}");
    }
}

#[test]
fn kubernetes_statefulset_is_locked_down_and_observable() {
    let sts = yaml(&format!("{KUBE_DIR}/statefulset.yaml"));
    let pod = &sts["spec"]["template"]["spec"];
    let c = &pod["containers"][0];
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    assert_eq!(pod["securityContext"]["seccompProfile"]["type"], "RuntimeDefault");
    assert_eq!(c["securityContext"]["readOnlyRootFilesystem"], true);
    assert_eq!(c["securityContext"]["allowPrivilegeEscalation"], false);
    assert_eq!(c["securityContext"]["capabilities"]["drop"], serde_json::json!(["ALL"]));
    assert_eq!(pod["automountServiceAccountToken"], false);

    let admin = c["ports"]
        .as_array()
        .expect("ports")
        .iter()
        .find(|p| p["name"] == "admin")
        .expect("admin port");
    for probe in ["readinessProbe", "livenessProbe"] {
        assert_eq!(c[probe]["httpGet"]["path"], "/healthz", "{probe}");
        assert_eq!(c[probe]["httpGet"]["port"], "admin", "{probe}");
    }
    let notes = &sts["spec"]["template"]["metadata"]["annotations"];
    assert_eq!(notes["prometheus.io/scrape"], "true");
    assert_eq!(notes["prometheus.io/path"], "/metrics");
    assert_eq!(notes["prometheus.io/port"], admin["containerPort"].to_string().as_str());

    for key in ["requests", "limits"] {
        assert!(
            c["resources"][key]["cpu"].is_string() && c["resources"][key]["memory"].is_string()
        );
    }
    let instance =
        c["env"].as_array().expect("env").iter().find(|e| e["name"] == "COURTESY_INSTANCE");
    assert_eq!(
        instance.expect("COURTESY_INSTANCE")["valueFrom"]["fieldRef"]["fieldPath"],
        "metadata.name"
    );

    // The audit chain of each replica on a claim of its own, where the
    // config writes it.
    let config = yaml(&format!("{KUBE_DIR}/courtesy.yaml"));
    let claim = sts["spec"]["volumeClaimTemplates"][0]["metadata"]["name"].as_str().expect("claim");
    let mount = c["volumeMounts"].as_array().expect("mounts").iter().find(|m| m["name"] == claim);
    assert_eq!(mount.expect("audit mount")["mountPath"], config["audit"]["dir"]);

    // Kubernetes' SIGKILL must come after preStop and courtesy's drain.
    let grace = pod["terminationGracePeriodSeconds"].as_u64().expect("grace");
    assert!(grace > DRAIN_GRACE_SECS + 5, "terminationGracePeriodSeconds {grace}");
}

// ---------------------------------------------------------------- postfix --

/// Runs postconf against a scratch config folder made of Postfix's stock
/// master.cf plus the snippets; any warning (postconf's word for an unknown
/// or misspelt parameter) is returned as a finding.
fn postconf_findings(postconf: &Path, main_cf: &str, master_extra: &str) -> String {
    let dir = tempfile::tempdir().expect("temp dir");
    let stock = fs::read_to_string("/usr/share/postfix/master.cf.dist").unwrap_or_default();
    fs::write(dir.path().join("main.cf"), main_cf).expect("main.cf");
    fs::write(dir.path().join("master.cf"), format!("{stock}\n{master_extra}")).expect("master.cf");
    let mut findings = String::new();
    for args in [&["-n"][..], &["-M"], &["-P"]] {
        let out = run(Command::new(postconf).arg("-c").arg(dir.path()).args(args));
        if !out.status.success() {
            findings.push_str(&format!("postconf {args:?} failed\n"));
        }
        findings.push_str(&text(&out.stderr));
    }
    findings
}

#[test]
fn postfix_relay_snippets_are_accepted_by_postconf() {
    let Some(postconf) = tool("postconf", None, &["/usr/sbin/postconf"]) else { return };
    let main = read("deploy/postfix/relay/main.cf");
    let master = read("deploy/postfix/relay/master.cf");
    assert!(master.contains("smtpd_proxy_filter=127.0.0.1:2525"));
    // Way B is shipped commented out; check it as an admin would enable it.
    let way_b: String = main
        .lines()
        .map(|l| match l.strip_prefix('#') {
            Some(rest) if rest.starts_with(|c: char| c.is_ascii_lowercase()) => rest,
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n");
    assert!(way_b.contains("\nrelayhost = [127.0.0.1]:2525"));
    for main_cf in [&main, &way_b] {
        let findings = postconf_findings(&postconf, main_cf, &master);
        assert!(findings.trim().is_empty(), "postconf:\n{findings}");
    }
    let typo = master.replacen("smtpd_proxy_options", "smtpd_proxy_optoins", 1);
    assert!(
        !postconf_findings(&postconf, &main, &typo).trim().is_empty(),
        "a typo must be reported"
    );
}

// --------------------------------------------------------------------- CI --

#[test]
fn ci_script_is_strict_executable_bash() {
    let path = repo().join(".ci/run");
    let mode = fs::metadata(&path).expect(".ci/run").permissions().mode();
    assert!(mode & 0o111 != 0, ".ci/run must be executable");
    let script = read(".ci/run");
    assert!(script.starts_with("#!/usr/bin/env bash\n"));
    assert!(script.lines().any(|l| l.trim() == "set -euo pipefail"));
    for step in [
        "cargo fmt --all -- --check",
        "cargo clippy --all-targets --locked -- -D warnings",
        "cargo test --locked",
        "scripts/e2e-*.sh",
        "policies/*.yaml",
        "kubernetes-validate==",
    ] {
        assert!(script.contains(step), ".ci/run must run {step}");
    }
    if let Some(bash) = tool("bash", None, &["/bin/bash"]) {
        let out = run(Command::new(bash).arg("-n").arg(&path));
        assert!(out.status.success(), "bash -n .ci/run: {}", text(&out.stderr));
    }
}

// ---------------------------------------------------------------- configs --

/// Every service configuration shipped in deploy/ is one the program accepts:
/// a key renamed in the code cannot leave admins with a file that refuses to
/// start.
#[test]
fn shipped_service_configs_load() {
    for rel in [
        "deploy/courtesy.yaml",
        "deploy/systemd/courtesy.yaml",
        "deploy/systemd/courtesy-milter.yaml",
        "deploy/container/courtesy.yaml",
        "deploy/kubernetes/courtesy.yaml",
    ] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
        let text = read(rel);
        if let Err(e) = courtesy::config::ServiceConfig::parse(&text, &path) {
            panic!("{rel} does not load: {e}");
        }
    }
}

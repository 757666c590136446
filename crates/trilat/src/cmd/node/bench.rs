//! `trilat bench federation | bus | audit | missile`: flags → `trilat_bench` harness →
//! the printed figures. The harnesses live in `crates/trilat-bench`.

use trilat_bench::measure::Conditions;
use trilat_bench::{audit, bus as party_bus, federation, missile};

/// `trilat bench federation`.
pub(super) async fn federation(spec: federation::Spec) -> anyhow::Result<()> {
    println!("{}", Conditions::now());
    let figures = federation::run(spec).await?;
    println!(
        "fan-out create@USA -> stored and visible at JPN and KOR, {}",
        figures.fan_out
    );
    let Some(catch_up) = figures.catch_up else {
        return Ok(());
    };
    let wall_s = catch_up.wall.as_secs_f64();
    let cpu_s = catch_up.cpu.as_secs_f64();
    let n_pulled = catch_up.n_pulled as f64;
    println!(
        "backlog: {} reports stored at USA while KOR was down",
        catch_up.n_stored
    );
    println!(
        "catch-up: {} reports pulled by KOR after restart in {wall_s:.2} s = {:.0} reports/s \
         (process CPU {cpu_s:.2} s = {:.0} reports per CPU-second, serving USA and receiving KOR; \
         {:.2} cores busy on average; pages of {})",
        catch_up.n_pulled,
        n_pulled / wall_s,
        n_pulled / cpu_s.max(1e-3),
        cpu_s / wall_s.max(1e-3),
        catch_up.pull_page_max,
    );
    Ok(())
}

/// `trilat bench bus`.
pub(super) async fn bus(
    samples: usize,
    postgres: String,
    nats: String,
    ais: bool,
) -> anyhow::Result<()> {
    println!("{}", Conditions::now());
    let figures = party_bus::run(party_bus::Spec {
        samples,
        postgres,
        nats,
        trilat_exe: std::env::current_exe()?,
        ais,
    })
    .await?;
    println!(
        "POST at process A -> 201 (signed, stored), {}",
        figures.created
    );
    println!("create at A -> on A's own live stream, {}", figures.a_to_a);
    println!(
        "create at A -> on process B's live stream (bus and shared PostgreSQL), {}; {} missed",
        figures.a_to_b, figures.n_missed
    );
    if let Some((handoff, n_missed)) = figures.ais_handoff {
        println!(
            "AIS position POSTed at B -> its finding on A's live stream (handed to the partition's owner through JetStream), {handoff}; {n_missed} missed"
        );
    }
    Ok(())
}

/// `trilat bench audit`.
pub(super) async fn audit(spec: audit::Spec) -> anyhow::Result<()> {
    anyhow::ensure!(
        spec.round > std::time::Duration::ZERO,
        "--seconds must be positive"
    );
    println!("{}", Conditions::now());
    let rounds = audit::run(spec).await?;
    for round in &rounds {
        println!(
            "audit_group_max {:>4}: {:>7.0} reads/s ({} clients, {:.1} s), {}; {} commits, {:.1} entries per commit",
            round.audit_group_max,
            round.reads_per_s(),
            spec.clients,
            round.wall.as_secs_f64(),
            round.latencies,
            round.n_commits,
            round.n_entries as f64 / round.n_commits.max(1) as f64,
        );
    }
    let median = |alone: bool| {
        let mut rates: Vec<f64> = rounds
            .iter()
            .filter(|r| (r.audit_group_max == 1) == alone)
            .map(audit::Round::reads_per_s)
            .collect();
        rates.sort_by(f64::total_cmp);
        let n = rates.len();
        (rates[(n - 1) / 2] + rates[n / 2]) / 2.0
    };
    let (grouped, alone) = (median(false), median(true));
    println!(
        "median: grouped {grouped:.0} reads/s, alone {alone:.0} reads/s: ratio {:.2}",
        grouped / alone.max(1e-9)
    );
    Ok(())
}

/// `trilat bench missile`.
pub(super) async fn missile(launches: usize) -> anyhow::Result<()> {
    println!("{}", Conditions::now());
    let figures = missile::run(launches).await?;
    println!(
        "first assessment after {}..{} radar scans per launch (median {})",
        figures.scans_min, figures.scans_max, figures.scans_median
    );
    println!(
        "detection POST at KOR -> first missile.assessment stored at USA and JPN, {}",
        figures.first_assessment
    );
    Ok(())
}

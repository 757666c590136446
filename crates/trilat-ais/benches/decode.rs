//! Decode-rate benchmark: single-sentence position reports through the
//! decoder, reading the fields a tracker needs.
//!
//! Input: `$AIS_BENCH_INPUT` (made by `scripts/bench/ais_make_input.sh`,
//! the same file `scripts/bench/ais_pyais.py` reads), else a built-in
//! fixture of real position sentences repeated.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use trilat_ais::Decoder;

const FIXTURE: &[&str] = &[
    "!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4A",
    "!AIVDM,1,1,,B,13aDp<PP000IwSlN?Wm@0?wN2<1T,0*29",
    "!AIVDM,1,1,,A,B3KLehP0B@LTN6`Vl;rrBE063P06,0*5A",
    "!AIVDM,1,1,,A,15N1u<PP1FJuvSRHOE6QIwwh0HQ6,0*30",
];

fn input() -> Vec<u8> {
    match std::env::var_os("AIS_BENCH_INPUT") {
        Some(path) => std::fs::read(path).expect("AIS_BENCH_INPUT readable"),
        None => FIXTURE
            .iter()
            .cycle()
            .take(200_000)
            .flat_map(|l| [l.as_bytes(), b"\n"].concat())
            .collect(),
    }
}

/// CPU time this thread has run, in ns (the thread CPU clock), so a
/// figure on a shared, loaded machine counts only our own cycles.
fn thread_cpu_ns() -> u64 {
    cpu_time::ThreadTime::now().as_duration().as_nanos() as u64
}

fn decode_all(decoder: &mut Decoder, lines: &[&[u8]]) -> f64 {
    let mut sum = 0.0f64;
    for line in lines {
        if let Ok(Some(msg)) = decoder.decode_line(line) {
            if let Some(p) = msg.position() {
                sum += p.lat.unwrap_or(0.0) + f64::from(p.speed_knots.unwrap_or(0.0));
            }
        }
    }
    sum
}

fn decode(c: &mut Criterion) {
    let text = input();
    let lines: Vec<&[u8]> = text
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    let mut group = c.benchmark_group("ais_decode");
    group.throughput(Throughput::Elements(lines.len() as u64));
    group.sample_size(20);
    group.bench_function("positions", |b| {
        let mut decoder = Decoder::new();
        b.iter(|| black_box(decode_all(&mut decoder, &lines)))
    });
    group.bench_function("positions_cpu_time", |b| {
        let mut decoder = Decoder::new();
        b.iter_custom(|iters| {
            let t0 = thread_cpu_ns();
            for _ in 0..iters {
                black_box(decode_all(&mut decoder, &lines));
            }
            std::time::Duration::from_nanos(thread_cpu_ns() - t0)
        })
    });
    group.finish();
}

criterion_group!(benches, decode);
criterion_main!(benches);

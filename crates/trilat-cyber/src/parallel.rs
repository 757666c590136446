//! Fan-out of independent work over scoped threads, one helper for every
//! place the crate splits a bundle between cores.
//!
//! Panics: every thread is joined before any result is looked at, and a
//! panic in a part is re-raised unchanged on the calling thread (a panic
//! there is a bug in the parser or the mapping, not bad input).

/// Splits `items` into `n_parts` contiguous parts (at least one; the last
/// may be shorter), runs `work` on each part on its own scoped thread, and
/// returns the parts' results in order. With one part, `work` runs on the
/// calling thread.
pub(crate) fn map_parts<T, R>(
    items: &[T],
    n_parts: usize,
    work: impl Fn(&[T]) -> R + Sync,
) -> Vec<R>
where
    T: Sync,
    R: Send,
{
    let n_parts = n_parts.clamp(1, items.len().max(1));
    if n_parts == 1 {
        return vec![work(items)];
    }
    let part_len = items.len().div_ceil(n_parts);
    let work = &work;
    let joined: Vec<std::thread::Result<R>> = std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(part_len)
            .map(|part| scope.spawn(move || work(part)))
            .collect();
        handles.into_iter().map(|handle| handle.join()).collect()
    });
    assert!(joined.len() <= n_parts, "no more parts than asked for");
    joined
        .into_iter()
        .map(|res| res.unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(n_items: usize, n_parts: usize, parts_expect: &[usize]) {
        let items: Vec<usize> = (0..n_items).collect();
        let parts = map_parts(&items, n_parts, |part| part.to_vec());
        let lens: Vec<usize> = parts.iter().map(Vec::len).collect();
        assert_eq!(lens, parts_expect, "{n_items} items in {n_parts} parts");
        let joined: Vec<usize> = parts.into_iter().flatten().collect();
        assert_eq!(joined, items, "parts come back in order");
    }

    #[test]
    fn parts_cover_the_items_in_order() {
        check(0, 4, &[0]);
        check(5, 1, &[5]);
        check(5, 0, &[5]);
        check(10, 3, &[4, 4, 2]);
        check(3, 8, &[1, 1, 1]);
    }

    #[test]
    fn a_panicking_part_is_re_raised() {
        let items = [1, 2, 3, 4];
        let caught = std::panic::catch_unwind(|| {
            map_parts(&items, 2, |part| {
                assert!(!part.contains(&3), "part with 3 (test)");
                part.len()
            })
        });
        let payload = caught.expect_err("the panic reaches the caller");
        let message = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied());
        assert_eq!(message, Some("part with 3 (test)"));
    }
}

//! Charts as server-rendered SVG: scaled by their `viewBox` to the width of a phone or a desk,
//! each an image with a title and a description for screen readers, and its numbers in a table
//! one tap away.

use maud::{Markup, html};

const INK: &str = "#1f5fa8";
const MUTED: &str = "#444";

/// A bar per value, left to right, labelled at both ends (`first`, `last`) and with the
/// highest value marked.
pub(super) fn bars(
    id: &str,
    title: &str,
    desc: &str,
    values: &[u32],
    first: &str,
    last: &str,
) -> Markup {
    let (w, h, top, bottom, left) = (600.0, 180.0, 16.0, 24.0, 28.0);
    let max = values.iter().copied().max().unwrap_or(0).max(1);
    let n = values.len().max(1) as f64;
    let step = (w - left) / n;
    let plot = h - top - bottom;
    html! {
        svg role="img" aria-labelledby={ (id) "-t " (id) "-d" } viewBox={ "0 0 " (w) " " (h) } width="100%" style="max-width:40rem;height:auto" {
            title id={ (id) "-t" } { (title) }
            desc id={ (id) "-d" } { (desc) }
            line x1=(left) y1=(h - bottom) x2=(w) y2=(h - bottom) stroke=(MUTED) stroke-width="1" {}
            text x="0" y=(top + 4.0) font-size="12" fill=(MUTED) { (max) }
            text x="0" y=(h - bottom) font-size="12" fill=(MUTED) { "0" }
            @for (i, v) in values.iter().enumerate() {
                @let bh = plot * f64::from(*v) / f64::from(max);
                rect x=(format!("{:.1}", left + step * i as f64 + step * 0.15)) y=(format!("{:.1}", h - bottom - bh)) width=(format!("{:.1}", step * 0.7)) height=(format!("{:.1}", bh)) fill=(INK) {}
            }
            text x=(left) y=(h - 6.0) font-size="12" fill=(MUTED) { (first) }
            text x=(w) y=(h - 6.0) font-size="12" fill=(MUTED) text-anchor="end" { (last) }
        }
    }
}

/// Short weekday names, Monday first.
const DAYS: [&str; 7] = ["Lu", "Ma", "Mi", "Jo", "Vi", "Sâ", "Du"];

/// Calls by weekday and hour: a grid, darker where more calls came.
pub(super) fn week_grid(id: &str, title: &str, desc: &str, grid: &[[u32; 24]; 7]) -> Markup {
    let (cell, left, top) = (22.0, 28.0, 16.0);
    let max = grid.iter().flatten().copied().max().unwrap_or(0).max(1);
    let (w, h) = (left + cell * 24.0, top + cell * 7.0);
    html! {
        svg role="img" aria-labelledby={ (id) "-t " (id) "-d" } viewBox={ "0 0 " (w) " " (h) } width="100%" style="max-width:40rem;height:auto" {
            title id={ (id) "-t" } { (title) }
            desc id={ (id) "-d" } { (desc) }
            @for hour in (0..24).step_by(3) {
                text x=(format!("{:.0}", left + cell * f64::from(hour) + 2.0)) y="12" font-size="11" fill=(MUTED) { (hour) }
            }
            @for (d, row) in grid.iter().enumerate() {
                text x="0" y=(format!("{:.0}", top + cell * d as f64 + 15.0)) font-size="11" fill=(MUTED) { (DAYS[d]) }
                @for (hour, n) in row.iter().enumerate() {
                    @let shade = if *n == 0 { 0.06 } else { 0.2 + 0.8 * f64::from(*n) / f64::from(max) };
                    rect x=(format!("{:.0}", left + cell * hour as f64)) y=(format!("{:.0}", top + cell * d as f64)) width=(cell - 2.0) height=(cell - 2.0) fill=(INK) fill-opacity=(format!("{shade:.2}")) {}
                }
            }
        }
    }
}

/// One horizontal bar per named value, the name and the value written beside it.
pub(super) fn ranked(id: &str, title: &str, desc: &str, rows: &[(String, u32)]) -> Markup {
    let (w, row, label) = (600.0, 26.0, 200.0);
    let max = rows.iter().map(|r| r.1).max().unwrap_or(0).max(1);
    let h = (row * rows.len().max(1) as f64).max(row);
    html! {
        svg role="img" aria-labelledby={ (id) "-t " (id) "-d" } viewBox={ "0 0 " (w) " " (h) } width="100%" style="max-width:40rem;height:auto" {
            title id={ (id) "-t" } { (title) }
            desc id={ (id) "-d" } { (desc) }
            @for (i, (name, n)) in rows.iter().enumerate() {
                @let y = row * i as f64;
                @let bw = (w - label - 40.0) * f64::from(*n) / f64::from(max);
                text x="0" y=(format!("{:.0}", y + 17.0)) font-size="14" fill="#000" { (name) }
                rect x=(label) y=(format!("{:.0}", y + 4.0)) width=(format!("{bw:.1}")) height=(row - 8.0) fill=(INK) {}
                text x=(format!("{:.1}", label + bw + 6.0)) y=(format!("{:.0}", y + 17.0)) font-size="14" fill="#000" { (n) }
            }
        }
    }
}

//! The page's charts as inline SVG: geometry computed from numbers only, never from text.

/// Chart geometry (SVG user units).
pub(super) const CHART_W: f64 = 640.0;
pub(super) const CHART_H: f64 = 200.0;
pub(super) const PAD_L: f64 = 40.0;
pub(super) const PAD_R: f64 = 10.0;
pub(super) const PAD_T: f64 = 10.0;
pub(super) const PAD_B: f64 = 26.0;
pub(super) const BAR_W: f64 = 240.0;

pub(super) fn plot_w() -> f64 {
    CHART_W - PAD_L - PAD_R
}
pub(super) fn plot_h() -> f64 {
    CHART_H - PAD_T - PAD_B
}

pub(super) fn pct(value: Option<f64>) -> String {
    value.map_or_else(|| "–".to_owned(), |v| format!("{:.1}%", v * 100.0))
}

pub(super) fn num(value: f64) -> String {
    format!("{value:.1}")
}

/// One line of a line chart: the SVG `points` (numbers only) and a dot per known value.
pub struct Series {
    pub name: &'static str,
    pub class: &'static str,
    pub points: String,
    pub dots: Vec<Dot>,
}

pub struct Dot {
    pub x: String,
    pub y: String,
    pub title: String,
}

pub struct Tick {
    pub x: String,
    pub y: String,
    pub label: String,
}

pub struct LineChart {
    pub series: Vec<Series>,
    pub x_ticks: Vec<Tick>,
    pub y_ticks: Vec<Tick>,
}

pub struct BarSegment {
    pub y: String,
    pub height: String,
    pub class: &'static str,
    pub title: String,
}

pub struct Bar {
    pub x: String,
    pub width: String,
    pub segments: Vec<BarSegment>,
}

pub struct BarChart {
    pub bars: Vec<Bar>,
    pub x_ticks: Vec<Tick>,
    pub y_ticks: Vec<Tick>,
}

pub(super) fn x_of(i: usize, n: usize) -> f64 {
    if n <= 1 { PAD_L + plot_w() / 2.0 } else { PAD_L + plot_w() * i as f64 / (n - 1) as f64 }
}

pub(super) fn y_of(fraction: f64) -> f64 {
    PAD_T + (1.0 - fraction.clamp(0.0, 1.0)) * plot_h()
}

/// About six day labels along the x axis.
pub(super) fn day_ticks(days: &[chrono::NaiveDate], x: impl Fn(usize) -> f64) -> Vec<Tick> {
    let step = days.len().div_ceil(6).max(1);
    let last = days.len().saturating_sub(1);
    // Every step-th day, and the last day unless a label sits right next to it.
    days.iter()
        .enumerate()
        .filter(|(i, _)| *i == last || (i % step == 0 && last - i >= step.div_ceil(2).max(2)))
        .map(|(i, day)| Tick { x: num(x(i)), y: num(CHART_H - 8.0), label: day.format("%b %-d").to_string() })
        .collect()
}

pub(super) fn line_chart(
    days: &[chrono::NaiveDate],
    lines: Vec<(&'static str, &'static str, Vec<Option<f64>>)>,
) -> LineChart {
    let n = days.len();
    let series = lines
        .into_iter()
        .map(|(name, class, values)| {
            let known: Vec<(usize, f64)> =
                values.iter().enumerate().filter_map(|(i, v)| v.map(|v| (i, v))).collect();
            Series {
                name,
                class,
                points: known
                    .iter()
                    .map(|(i, v)| format!("{},{}", num(x_of(*i, n)), num(y_of(*v))))
                    .collect::<Vec<_>>()
                    .join(" "),
                dots: known
                    .iter()
                    .map(|(i, v)| Dot {
                        x: num(x_of(*i, n)),
                        y: num(y_of(*v)),
                        title: format!("{} {}: {}", days[*i], name, pct(Some(*v))),
                    })
                    .collect(),
            }
        })
        .collect();
    let y_ticks = [0.0, 0.25, 0.5, 0.75, 1.0]
        .iter()
        .map(|f| Tick { x: num(PAD_L - 4.0), y: num(y_of(*f) + 4.0), label: format!("{:.0}%", f * 100.0) })
        .collect();
    LineChart { series, x_ticks: day_ticks(days, |i| x_of(i, n)), y_ticks }
}

/// Stacked bars, one per day; each segment is (class, label, value).
pub(super) fn bar_chart(
    days: &[chrono::NaiveDate],
    stacks: Vec<Vec<(&'static str, &'static str, i64)>>,
) -> BarChart {
    let n = days.len().max(1);
    let max =
        stacks.iter().map(|stack| stack.iter().map(|s| s.2.max(0)).sum::<i64>()).max().unwrap_or(0).max(1);
    let slot = plot_w() / n as f64;
    let center = |i: usize| PAD_L + slot * (i as f64 + 0.5);
    let bars = stacks
        .iter()
        .enumerate()
        .map(|(i, stack)| {
            let mut base = 0i64;
            let segments = stack
                .iter()
                .filter(|(_, _, value)| *value > 0)
                .map(|(class, label, value)| {
                    let top = y_of((base + value) as f64 / max as f64);
                    let bottom = y_of(base as f64 / max as f64);
                    base += value;
                    BarSegment {
                        y: num(top),
                        height: num(bottom - top),
                        class,
                        title: format!("{} {label}: {value}", days[i]),
                    }
                })
                .collect();
            Bar { x: num(center(i) - slot * 0.4), width: num(slot * 0.8), segments }
        })
        .collect();
    let y_ticks = [0.0, 0.5, 1.0]
        .iter()
        .map(|f| Tick {
            x: num(PAD_L - 4.0),
            y: num(y_of(*f) + 4.0),
            label: format!("{}", (max as f64 * f).round() as i64),
        })
        .collect();
    BarChart { bars, x_ticks: day_ticks(days, center), y_ticks }
}

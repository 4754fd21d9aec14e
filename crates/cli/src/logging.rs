//! The log of the commands that run nodes (`demo`, `serve`): how much (`-v`, or a
//! `BORDERLINK_LOG` filter, which wins) and in which form (`--log-format text|json`), on standard
//! error so that standard output keeps what the user reads (the demo's banner, the node's URL).
//!
//! Colours only on a terminal and without `NO_COLOR`; JSON is one object per line for log
//! collectors: `timestamp` (UTC, milliseconds), `level`, `target`, the event's fields (its
//! `message` among them) and `spans` (outermost first, each with its name and fields as text).

use std::fmt;
use std::io::IsTerminal;

use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields};
use tracing_subscriber::registry::LookupSpan;

/// The logging options of a command that runs nodes.
#[derive(clap::Args, Clone, Debug)]
pub(crate) struct LogArgs {
    /// More log, one level per `-v`: the demo logs warnings (`-v` info: requests, elections,
    /// blocks; `-vv` debug), `serve` info (`-v` debug). The `BORDERLINK_LOG` environment
    /// variable, a tracing filter such as `info,openraft=warn`, overrides it.
    #[arg(short, long, action = clap::ArgAction::Count)]
    verbose: u8,
    /// The log's form: `text` for people, `json` (one object per line) for log collectors.
    #[arg(long, value_enum, default_value_t = LogFormat::Text, value_name = "FORMAT")]
    log_format: LogFormat,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

/// The demo's filters, by number of `-v`. Without one: warnings, but none of openraft's — the
/// nodes of one process start one after the other, and its elections and retries while they
/// find each other are no news; `-v`: info, with openraft's warnings.
pub(crate) const DEMO: &[&str] = &["warn,openraft=off", "info,openraft=warn", "debug", "trace"];

/// A production node's filters (`serve`): its requests, elections and blocks from the start.
pub(crate) const NODE: &[&str] = &["info", "debug", "trace"];

impl LogArgs {
    /// Starts logging with `filters[number of -v]` (the last one past its end), unless
    /// `BORDERLINK_LOG` names a filter.
    pub(crate) fn init(&self, filters: &[&str]) {
        let chosen = filters.get(usize::from(self.verbose)).or(filters.last()).copied().unwrap_or("info");
        let filter = EnvFilter::try_from_env("BORDERLINK_LOG").unwrap_or_else(|_| EnvFilter::new(chosen));
        let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
        let _ = match self.log_format {
            LogFormat::Text => {
                builder.with_ansi(std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()).try_init()
            }
            LogFormat::Json => builder.with_ansi(false).event_format(JsonLines).try_init(),
        };
    }
}

/// One JSON object per event.
struct JsonLines;

impl<S, N> FormatEvent<S, N> for JsonLines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(&self, ctx: &FmtContext<'_, S, N>, mut writer: Writer<'_>, event: &Event<'_>) -> fmt::Result {
        let meta = event.metadata();
        let mut line = serde_json::Map::new();
        line.insert("timestamp".into(), borderlink_model::datetime::format_unix_ms(crate::now_ms()).into());
        line.insert("level".into(), meta.level().as_str().into());
        line.insert("target".into(), meta.target().into());
        event.record(&mut Fields(&mut line));
        if let Some(scope) = ctx.event_scope() {
            let spans: Vec<serde_json::Value> = scope
                .from_root()
                .map(|span| {
                    let ext = span.extensions();
                    let fields = ext.get::<FormattedFields<N>>().map(|f| f.fields.as_str()).unwrap_or_default();
                    serde_json::json!({ "name": span.name(), "fields": fields })
                })
                .collect();
            if !spans.is_empty() {
                line.insert("spans".into(), spans.into());
            }
        }
        writeln!(writer, "{}", serde_json::Value::Object(line))
    }
}

/// An event's fields as JSON values (numbers and booleans as such, the rest as text).
struct Fields<'a>(&'a mut serde_json::Map<String, serde_json::Value>);

impl Visit for Fields<'_> {
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.insert(field.name().into(), format!("{value:?}").into());
    }
}

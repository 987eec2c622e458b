//! Templates in profiles (`{{name}}`, `{{now+300}}`): any text renders or fails naming where it
//! stands; an offset too large is an error, not an overflow; values go in as they are.

use proptest::prelude::*;
use serde_json::Value;
use tokendesk_core::template::{Context, Values};

use crate::config::config;
use crate::input;

const NOW: i64 = 1_796_367_727_000;
const PLACE: &str = "steps[0].body";

fn values() -> Values {
    let mut v = Values::new();
    v.insert("authorizationId", "a-1");
    v.insert("now-ish", "{{now}}");
    v
}

/// Any template text: filled (unchanged when it holds no `{{`), or an error on its place.
pub fn text(t: &str) {
    let values = values();
    let ctx = Context {
        values: &values,
        now: NOW,
    };
    match ctx.render(t, PLACE) {
        Ok(out) => {
            if !t.contains("{{") {
                assert_eq!(out, t);
            }
        }
        Err(e) => assert_eq!(e.fields[0].field, PLACE, "{}", e.message),
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_template_text(t in prop_oneof![
        input::text(),
        (input::text(), "[a-zA-Z_ ]{0,10}([+-][0-9]{0,22}[smhdw]?)?", input::text())
            .prop_map(|(a, name, b)| format!("{a}{{{{{name}}}}}{b}")),
    ]) {
        text(&t);
    }

    #[test]
    fn any_time_offset_is_a_time_or_an_error(
        base in prop::sample::select(&["now", "now_ms", "now_iso", "date", "uuid"][..]),
        sign in prop::sample::select(&["+", "-"][..]),
        digits in "[0-9]{1,24}",
        unit in prop::sample::select(&["", "s", "m", "h", "d", "x"][..]),
    ) {
        let t = format!("{{{{{base}{sign}{digits}{unit}}}}}");
        text(&t);
        let values = values();
        let ctx = Context { values: &values, now: NOW };
        if base == "now_ms" && unit.is_empty() && let Ok(n) = digits.parse::<i64>() && let Some(ms) = n.checked_mul(1000) {
            let at = if sign == "+" { NOW.checked_add(ms) } else { NOW.checked_sub(ms) };
            if let Some(at) = at {
                prop_assert_eq!(ctx.render(&t, PLACE).unwrap(), at.to_string());
            }
        }
    }

    #[test]
    fn captured_values_go_in_as_they_are(value in input::text()) {
        let mut values = Values::new();
        values.insert("v", value.clone());
        let ctx = Context { values: &values, now: NOW };
        prop_assert_eq!(ctx.render("{{v}}", PLACE).unwrap(), value);
    }

    #[test]
    fn json_templates_keep_their_shape(v in input::value(&["value", "essential", "{{now}}"])) {
        let values = values();
        let ctx = Context { values: &values, now: NOW };
        if let Ok(out) = ctx.render_json(&v, PLACE) {
            prop_assert!(same_shape(&v, &out), "{} became {}", v, out);
        }
    }
}

/// The same keys, array lengths and non-string values.
fn same_shape(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::String(_), Value::String(_)) => true,
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same_shape(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((k1, v1), (k2, v2))| k1 == k2 && same_shape(v1, v2))
        }
        (x, y) => x == y,
    }
}

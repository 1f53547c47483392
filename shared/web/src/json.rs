//! Reading a JSON request body into a typed, validated value; every failure names the field.

use garde::Validate;
use serde::de::DeserializeOwned;

use crate::ApiError;

/// Parses and validates a body. Invalid UTF-8 and malformed JSON are 400; a missing field, a
/// wrong type or a value outside its rules is 422 with the field's JSON path (e.g.
/// `message.body`, `playbookEntryIds[1]`).
pub fn parse<T>(body: &[u8]) -> Result<T, ApiError>
where
    T: DeserializeOwned + Validate<Context = ()>,
{
    let text = std::str::from_utf8(body).map_err(|error| {
        ApiError::Malformed(format!("body is not valid UTF-8 (at byte {})", error.valid_up_to()))
    })?;
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let value: T = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            ApiError::Malformed(format!("malformed JSON: {inner}"))
        } else {
            // serde's message for a missing field names the field inside its parent object.
            let message = inner.to_string();
            let parent = if path == "." { "" } else { path.as_str() };
            let field = match (missing_field(&message), parent) {
                (Some(name), "") => name.to_owned(),
                (Some(name), parent) => format!("{parent}.{name}"),
                (None, "") => return ApiError::Invalid { field: None, message },
                (None, parent) => parent.to_owned(),
            };
            ApiError::invalid(field.clone(), format!("{field}: {inner}"))
        }
    })?;
    value.validate().map_err(|report| {
        let (path, error) = report.iter().next().expect("a failed validation reports an error");
        let field = camel_case_path(&path.to_string());
        ApiError::invalid(field.clone(), format!("{field}: {}", error.message()))
    })?;
    Ok(value)
}

fn missing_field(message: &str) -> Option<&str> {
    message.strip_prefix("missing field `")?.split('`').next()
}

/// garde reports Rust field names; requests use camelCase (serde `rename_all`).
fn camel_case_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut upper_next = false;
    for c in path.chars() {
        match c {
            '_' => upper_next = true,
            c if upper_next => {
                out.extend(c.to_uppercase());
                upper_next = false;
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, Validate)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    struct Outer {
        #[garde(length(min = 1, max = 8))]
        execution_id: String,
        #[garde(dive)]
        inner: Inner,
    }

    #[derive(Debug, Deserialize, Validate)]
    #[serde(rename_all = "camelCase")]
    struct Inner {
        #[garde(length(min = 1))]
        message_body: String,
    }

    fn field_of(body: &str) -> Option<String> {
        match parse::<Outer>(body.as_bytes()).unwrap_err() {
            ApiError::Invalid { field, .. } => field,
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    #[test]
    fn errors_name_the_field_by_its_json_path() {
        assert_eq!(field_of(r#"{"executionId": 5, "inner": {"messageBody": "x"}}"#).unwrap(), "executionId");
        assert_eq!(field_of(r#"{"executionId": "e", "inner": {}}"#).unwrap(), "inner.messageBody");
        assert_eq!(field_of(r#"{"inner": {"messageBody": "x"}}"#).unwrap(), "executionId");
        assert_eq!(
            field_of(r#"{"executionId": "e", "inner": {"messageBody": ""}}"#).unwrap(),
            "inner.messageBody"
        );
        assert_eq!(
            field_of(r#"{"executionId": "123456789", "inner": {"messageBody": "x"}}"#).unwrap(),
            "executionId"
        );
    }

    #[test]
    fn malformed_json_and_bad_utf8_are_400() {
        assert!(matches!(parse::<Outer>(b"{\"executionId\": "), Err(ApiError::Malformed(_))));
        assert!(matches!(parse::<Outer>(b"{\"executionId\": \"\xff\"}"), Err(ApiError::Malformed(_))));
    }
}

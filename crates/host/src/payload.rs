//! From JSON, as a gateway holds it, to the WIT records: what every host of the component has
//! to do. Anything that does not fit a typed field is kept, never dropped: an unknown content
//! block travels as JSON text in `content-block::other`.

use std::borrow::Cow;

use serde_json::Value;

use crate::bindings::{
    BinaryContent, CallToolResult, ContentBlock, PluginContext, ResourceContents, ResourceLink,
    ResourcePostFetchPayload, TextContent, ToolAnnotations, ToolPostInvokePayload,
};

/// Read access to a JSON-like value: what the conversion needs. It is implemented for
/// [`serde_json::Value`] here, and a host whose values live elsewhere (the Python package's
/// dicts) implements it for its own type, so the MCP-to-WIT mapping is written once and no host
/// has to build an intermediate JSON tree on every call.
pub trait JsonLike: Sized {
    /// Whether the value is an object (a mapping).
    fn is_object(&self) -> bool;
    /// The member `key` of an object; `None` for a missing key, a null-free miss, or a value
    /// that is not an object.
    fn member(&self, key: &str) -> Option<Self>;
    /// The value as text, when it is a string.
    fn as_text(&self) -> Option<Cow<'_, str>>;
    /// The value, when it is a real boolean (not a number or a string).
    fn as_boolean(&self) -> Option<bool>;
    /// Whether the value is null.
    fn is_null(&self) -> bool;
    /// The elements, when the value is an array.
    fn elements(&self) -> Option<Vec<Self>>;
    /// The value as compact JSON text.
    fn to_json_text(&self) -> String;
}

impl<'a> JsonLike for &'a Value {
    fn is_object(&self) -> bool {
        Value::is_object(self)
    }

    fn member(&self, key: &str) -> Option<&'a Value> {
        self.get(key)
    }

    fn as_text(&self) -> Option<Cow<'_, str>> {
        self.as_str().map(Cow::Borrowed)
    }

    fn as_boolean(&self) -> Option<bool> {
        self.as_bool()
    }

    fn is_null(&self) -> bool {
        Value::is_null(self)
    }

    fn elements(&self) -> Option<Vec<&'a Value>> {
        self.as_array().map(|items| items.iter().collect())
    }

    fn to_json_text(&self) -> String {
        self.to_string()
    }
}

/// The WIT `call-tool-result` for an MCP `CallToolResult`. A value that is not an object
/// becomes an empty result (a success, as the ContextForge plugin treats it).
pub fn call_tool_result(result: impl JsonLike) -> CallToolResult {
    if !result.is_object() {
        return CallToolResult {
            content: Vec::new(),
            is_error: None,
            structured_content: None,
            meta: None,
        };
    }
    let content = result
        .member("content")
        .and_then(|content| content.elements())
        .map(|items| items.iter().map(content_block).collect())
        .unwrap_or_default();
    CallToolResult {
        content,
        is_error: result.member("isError").and_then(|flag| flag.as_boolean()),
        structured_content: result
            .member("structuredContent")
            .filter(|value| !value.is_null())
            .map(|value| value.to_json_text()),
        meta: result.member("_meta").map(|value| value.to_json_text()),
    }
}

/// The WIT payload of `tool-post-invoke` (without tool annotations; see [`tool_annotations`]).
pub fn tool_payload(tool: &str, result: impl JsonLike) -> ToolPostInvokePayload {
    ToolPostInvokePayload {
        name: tool.to_owned(),
        result: call_tool_result(result),
        annotations: None,
    }
}

/// The WIT `tool-annotations` for an MCP `ToolAnnotations` object (`readOnlyHint`,
/// `destructiveHint`, `idempotentHint`, `openWorldHint`); a hint that is not a real boolean is
/// unknown. A value that is not an object gives none.
pub fn tool_annotations(annotations: impl JsonLike) -> Option<ToolAnnotations> {
    if !annotations.is_object() {
        return None;
    }
    let hint = |key: &str| annotations.member(key).and_then(|hint| hint.as_boolean());
    Some(ToolAnnotations {
        read_only_hint: hint("readOnlyHint"),
        destructive_hint: hint("destructiveHint"),
        idempotent_hint: hint("idempotentHint"),
        open_world_hint: hint("openWorldHint"),
    })
}

/// The WIT payload of `resource-post-fetch`; `content` is kept when it holds a `uri`.
pub fn resource_payload(uri: &str, content: Option<impl JsonLike>) -> ResourcePostFetchPayload {
    ResourcePostFetchPayload {
        uri: uri.to_owned(),
        content: content.as_ref().and_then(resource_contents),
    }
}

/// A plugin context from its optional parts.
pub fn context(request_id: &str, trace_id: Option<&str>, server_id: Option<&str>) -> PluginContext {
    PluginContext {
        trace_id: trace_id.map(str::to_owned),
        server_id: server_id.map(str::to_owned),
        ..PluginContext::for_request(request_id)
    }
}

fn content_block<J: JsonLike>(item: &J) -> ContentBlock {
    typed_block(item).unwrap_or_else(|| ContentBlock::Other(item.to_json_text()))
}

/// The text of `value`'s member `key`, when it is a string.
fn text_of<J: JsonLike>(value: &J, key: &str) -> Option<String> {
    value
        .member(key)
        .and_then(|member| member.as_text().map(Cow::into_owned))
}

fn typed_block<J: JsonLike>(item: &J) -> Option<ContentBlock> {
    let annotations = || item.member("annotations").map(|value| value.to_json_text());
    let text = |key: &str| text_of(item, key);
    let block = match item.member("type")?.as_text()?.as_ref() {
        "text" => ContentBlock::Text(TextContent {
            text: text("text")?,
            annotations: annotations(),
        }),
        kind @ ("image" | "audio") => {
            let binary = BinaryContent {
                data: text("data")?,
                mime_type: text("mimeType")?,
                annotations: annotations(),
            };
            if kind == "image" {
                ContentBlock::Image(binary)
            } else {
                ContentBlock::Audio(binary)
            }
        }
        "resource_link" => ContentBlock::ResourceLink(ResourceLink {
            uri: text("uri")?,
            name: text("name")?,
            description: text("description"),
            mime_type: text("mimeType"),
        }),
        "resource" => ContentBlock::EmbeddedResource(resource_contents(&item.member("resource")?)?),
        _ => return None,
    };
    Some(block)
}

fn resource_contents<J: JsonLike>(value: &J) -> Option<ResourceContents> {
    let text = |key: &str| text_of(value, key);
    Some(ResourceContents {
        uri: text("uri")?,
        mime_type: text("mimeType").or_else(|| text("mime_type")),
        text: text("text"),
        blob: text("blob"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn call_tool_result_maps_typed_fields() {
        let result = call_tool_result(&json!({
            "isError": true,
            "structuredContent": {"status_code": 503},
            "content": [{"type": "text", "text": "boom"}, {"type": "mystery", "x": 1}]
        }));
        assert_eq!(result.is_error, Some(true));
        assert_eq!(
            result.structured_content.as_deref(),
            Some(r#"{"status_code":503}"#)
        );
        assert!(matches!(&result.content[0], ContentBlock::Text(t) if t.text == "boom"));
        assert!(
            matches!(&result.content[1], ContentBlock::Other(json) if json.contains("mystery"))
        );
    }

    #[test]
    fn call_tool_result_non_boolean_is_error_is_dropped() {
        assert_eq!(call_tool_result(&json!({"isError": "true"})).is_error, None);
        assert_eq!(call_tool_result(&json!({"isError": 1})).is_error, None);
    }

    #[test]
    fn call_tool_result_null_structured_content_is_absent() {
        assert_eq!(
            call_tool_result(&json!({"structuredContent": null})).structured_content,
            None
        );
    }

    #[test]
    fn call_tool_result_non_object_is_empty() {
        for value in [json!(null), json!("x"), json!([1]), json!(7)] {
            let result = call_tool_result(&value);
            assert!(result.content.is_empty() && result.is_error.is_none());
        }
    }

    #[test]
    fn text_block_without_text_is_kept_as_other() {
        let result = call_tool_result(&json!({"content": [{"type": "text", "text": 5}]}));
        assert!(matches!(&result.content[0], ContentBlock::Other(_)));
    }
}

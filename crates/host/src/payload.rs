//! From JSON, as a gateway holds it, to the WIT records: what every host of the component has
//! to do. Anything that does not fit a typed field is kept, never dropped: an unknown content
//! block travels as JSON text in `content-block::other`.

use serde_json::Value;

use crate::bindings::{
    BinaryContent, CallToolResult, ContentBlock, PluginContext, ResourceContents, ResourceLink,
    ResourcePostFetchPayload, TextContent, ToolPostInvokePayload,
};

/// The WIT `call-tool-result` for an MCP `CallToolResult` given as JSON. A value that is not an
/// object becomes an empty result (a success, as the ContextForge plugin treats it).
pub fn call_tool_result(result: &Value) -> CallToolResult {
    let Value::Object(map) = result else {
        return CallToolResult {
            content: Vec::new(),
            is_error: None,
            structured_content: None,
            meta: None,
        };
    };
    let content = match map.get("content") {
        Some(Value::Array(items)) => items.iter().map(content_block).collect(),
        _ => Vec::new(),
    };
    CallToolResult {
        content,
        is_error: map.get("isError").and_then(Value::as_bool),
        structured_content: map
            .get("structuredContent")
            .filter(|value| !value.is_null())
            .map(Value::to_string),
        meta: map.get("_meta").map(Value::to_string),
    }
}

/// The WIT payload of `tool-post-invoke`.
pub fn tool_payload(tool: &str, result: &Value) -> ToolPostInvokePayload {
    ToolPostInvokePayload {
        name: tool.to_owned(),
        result: call_tool_result(result),
    }
}

/// The WIT payload of `resource-post-fetch`; `content` is kept when it holds a `uri`.
pub fn resource_payload(uri: &str, content: Option<&Value>) -> ResourcePostFetchPayload {
    ResourcePostFetchPayload {
        uri: uri.to_owned(),
        content: content.and_then(resource_contents),
    }
}

/// A plugin context from its optional parts.
pub fn context(request_id: &str, trace_id: Option<&str>, server_id: Option<&str>) -> PluginContext {
    PluginContext {
        request_id: request_id.to_owned(),
        trace_id: trace_id.map(str::to_owned),
        server_id: server_id.map(str::to_owned),
        tenant_id: None,
        user: None,
    }
}

fn content_block(item: &Value) -> ContentBlock {
    typed_block(item).unwrap_or_else(|| ContentBlock::Other(item.to_string()))
}

fn typed_block(item: &Value) -> Option<ContentBlock> {
    let annotations = || item.get("annotations").map(Value::to_string);
    let text = |key: &str| item.get(key).and_then(Value::as_str).map(str::to_owned);
    let block = match item.get("type")?.as_str()? {
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
        "resource" => ContentBlock::EmbeddedResource(resource_contents(item.get("resource")?)?),
        _ => return None,
    };
    Some(block)
}

fn resource_contents(value: &Value) -> Option<ResourceContents> {
    let text = |key: &str| value.get(key).and_then(Value::as_str).map(str::to_owned);
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

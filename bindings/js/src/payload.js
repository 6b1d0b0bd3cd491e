// From MCP JSON, as a JavaScript gateway holds it, to the WIT records as jco represents them
// (camelCase record fields, variants as {tag, val}, options as undefined). The same mapping as
// the Rust hosts' (crates/host/src/payload.rs): anything that does not fit a typed field is
// kept as JSON text in `content-block::other`, never dropped.

/**
 * A JSON value given as its text. Where the component receives JSON text (`structuredContent`,
 * `_meta`, annotations, unknown content blocks, the config) it is passed exactly as written, so
 * numbers JavaScript cannot hold apart or exactly (`404.0` is not `404` to the plugin;
 * `2**64 - 1`) keep their spelling; anywhere else it is parsed.
 */
export class JsonText {
  /** @param {string} text */
  constructor(text) {
    this.text = text;
  }

  toJSON() {
    return JSON.parse(this.text);
  }
}

/** `value`, with a JsonText parsed where the structure itself is needed. */
const plain = (value) => (value instanceof JsonText ? JSON.parse(value.text) : value);
const isObject = (value) => value !== null && typeof value === 'object' && !Array.isArray(value);
const text = (value, key) => (typeof value[key] === 'string' ? value[key] : undefined);
const json = (value) => (value instanceof JsonText ? value.text : (JSON.stringify(value) ?? 'null'));
const isNull = (value) => value === undefined || value === null || (value instanceof JsonText && value.text.trim() === 'null');

function resourceContents(contents) {
  const value = plain(contents);
  if (!isObject(value) || typeof value.uri !== 'string') return undefined;
  return {
    uri: value.uri,
    mimeType: text(value, 'mimeType') ?? text(value, 'mime_type'),
    text: text(value, 'text'),
    blob: text(value, 'blob'),
  };
}

function typedBlock(block) {
  const item = plain(block);
  if (!isObject(item)) return undefined;
  const annotations = 'annotations' in item ? json(item.annotations) : undefined;
  switch (item.type) {
    case 'text':
      return typeof item.text === 'string' ? { tag: 'text', val: { text: item.text, annotations } } : undefined;
    case 'image':
    case 'audio': {
      const data = text(item, 'data');
      const mimeType = text(item, 'mimeType');
      if (data === undefined || mimeType === undefined) return undefined;
      return { tag: item.type, val: { data, mimeType, annotations } };
    }
    case 'resource_link': {
      const uri = text(item, 'uri');
      const name = text(item, 'name');
      if (uri === undefined || name === undefined) return undefined;
      return {
        tag: 'resource-link',
        val: { uri, name, description: text(item, 'description'), mimeType: text(item, 'mimeType') },
      };
    }
    case 'resource': {
      const contents = resourceContents(item.resource);
      return contents ? { tag: 'embedded-resource', val: contents } : undefined;
    }
    default:
      return undefined;
  }
}

const contentBlock = (item) => typedBlock(item) ?? { tag: 'other', val: json(item) };

/**
 * The WIT `call-tool-result` of an MCP `CallToolResult`. A value that is not an object is an
 * empty result (a success, as the ContextForge plugin treats it); `isError` counts only when it
 * is a real boolean.
 */
export function callToolResult(value) {
  const result = plain(value);
  if (!isObject(result)) return { content: [] };
  const content = plain(result.content);
  return {
    content: Array.isArray(content) ? content.map(contentBlock) : [],
    isError: typeof result.isError === 'boolean' ? result.isError : undefined,
    structuredContent: isNull(result.structuredContent) ? undefined : json(result.structuredContent),
    meta: '_meta' in result ? json(result._meta) : undefined,
  };
}

/** The WIT `resource-post-fetch-payload`; `content` is kept when it holds a `uri`. */
export function resourcePayload(uri, content) {
  return { uri: String(uri), content: resourceContents(content) };
}

const optionalText = (value) => (typeof value === 'string' ? value : undefined);

/** A whole number of ms >= 0 as the WIT `u64` (a bigint), or undefined for anything else. */
function optionalMillis(value) {
  if (typeof value === 'bigint') return value >= 0n ? value : undefined;
  return Number.isSafeInteger(value) && value >= 0 ? BigInt(value) : undefined;
}

/** The WIT `plugin-context` of `{requestId, traceId, serverId, tenantId, user, remainingMs}`. */
export function pluginContext(context = {}) {
  return {
    requestId: String(context.requestId ?? ''),
    traceId: optionalText(context.traceId),
    serverId: optionalText(context.serverId),
    tenantId: optionalText(context.tenantId),
    user: optionalText(context.user),
    remainingMs: optionalMillis(context.remainingMs),
  };
}

const optionalBoolean = (value) => (typeof value === 'boolean' ? value : undefined);

/** The WIT `tool-annotations` of an MCP `ToolAnnotations` object (`readOnlyHint`,
 * `destructiveHint`, `idempotentHint`, `openWorldHint`; a hint that is not a boolean is
 * unknown), or undefined when there is no object. */
export function toolAnnotations(annotations) {
  if (annotations === null || typeof annotations !== 'object' || Array.isArray(annotations)) return undefined;
  return {
    readOnlyHint: optionalBoolean(annotations.readOnlyHint),
    destructiveHint: optionalBoolean(annotations.destructiveHint),
    idempotentHint: optionalBoolean(annotations.idempotentHint),
    openWorldHint: optionalBoolean(annotations.openWorldHint),
  };
}

// Temporal's JSON form of an event history (what the Web UI and `temporal workflow show --output json`
// write), for replay fixtures. @temporalio/common's historyToJSON/historyFromJSON do the same, but with
// the protobufjs copy that @temporalio/common resolves: npm installs protobufjs 8 once per @temporalio
// package here (protobufjs 7 holds the root for grpc and @google/genai), so the History type, built by
// @temporalio/proto's copy, fails protojson's `instanceof Type` check ("type must be a Type"). These
// use the copy @temporalio/proto itself loads, whatever the install's layout.
import { createRequire } from 'node:module';
import type { History } from '@temporalio/common/lib/proto-utils.js';
import proto from '@temporalio/proto';

interface ProtoJson {
  toJson(type: unknown, message: unknown): unknown;
  fromJson(type: unknown, json: unknown, options?: { ignoreUnknownFields?: boolean }): unknown;
}

const require = createRequire(import.meta.url);
const protojson = createRequire(require.resolve('@temporalio/proto'))(
  'protobufjs/ext/protojson',
) as ProtoJson;
// The root is patched by @temporalio/proto; its generated types omit lookupType.
const historyType = (proto as unknown as { lookupType(name: string): unknown }).lookupType(
  'temporal.api.history.v1.History',
);

export function historyToJSON(history: History): string {
  const message = proto.temporal.api.history.v1.History.fromObject(history);
  return JSON.stringify(protojson.toJson(historyType, message), null, 2);
}

/** A history from its JSON form; fields a newer server added are ignored, as the SDK does. */
export function historyFromJSON(json: unknown): History {
  return protojson.fromJson(historyType, json, { ignoreUnknownFields: true }) as History;
}

/** The patch ids whose markers a history recorded (`patched()` on a first run), in order. */
export function patchesOf(history: History): string[] {
  return (history.events ?? []).flatMap((event) => {
    const marker = event.markerRecordedEventAttributes;
    if (marker?.markerName !== 'core_patch') return [];
    const data = marker.details?.['patch-data']?.payloads?.[0]?.data;
    if (!data) return [];
    const { id } = JSON.parse(new TextDecoder().decode(data)) as { id?: string };
    return id ? [id] : [];
  });
}

// The one-time namespace set-up Medic needs: its custom search attributes, the Web UI's incident columns.
import type { Client } from '@temporalio/client';
import proto from '@temporalio/proto';
import type { Logger } from '../logger.js';
import { MEDIC_SEARCH_ATTRIBUTES } from '../workflows/search-attributes.js';

/**
 * Registers Medic's custom search attributes when the server lacks them (a production cluster,
 * or a dev server started without `--search-attribute`). Idempotent.
 */
export async function ensureSearchAttributes(
  client: Client,
  namespace: string,
  logger?: Logger,
): Promise<void> {
  const existing = await client.connection.operatorService.listSearchAttributes({ namespace });
  const known = { ...existing.customAttributes, ...existing.systemAttributes };
  const missing = MEDIC_SEARCH_ATTRIBUTES.filter((key) => !(key.name in known));
  if (missing.length === 0) return;
  const { IndexedValueType } = proto.temporal.api.enums.v1;
  const searchAttributes: Record<string, proto.temporal.api.enums.v1.IndexedValueType> = {};
  for (const key of missing) searchAttributes[key.name] = IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD;
  await client.connection.operatorService.addSearchAttributes({ namespace, searchAttributes });
  logger?.info({ added: missing.map((k) => k.name) }, 'registered search attributes');
}

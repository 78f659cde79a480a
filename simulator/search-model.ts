/**
 * An Azure AI Search service (Microsoft.Search/searchServices) as the simulator keeps it: the ARM resource with its
 * managed identities, and its data plane's objects as Azure's wire JSON (api-version 2026-04-01) with their secrets
 * in clear — GET answers redact them (search-definitions.ts).
 */

import type { ArmResource } from './model';

/** A definition as the data plane's wire JSON: a skillset, an index, an indexer or a data source. */
export type SearchJson = Record<string, unknown>;

/** What one indexer run did: Azure's `IndexerExecutionResult`. */
export interface IndexerExecution {
  status: 'inProgress' | 'success' | 'transientFailure' | 'reset';
  errorMessage?: string;
  startTime: string;
  endTime?: string;
  errors: { key?: string; errorMessage: string; statusCode: number; name?: string }[];
  warnings: { key?: string; message: string; name?: string }[];
  itemsProcessed: number;
  itemsFailed: number;
}

export interface SearchIndexer {
  definition: SearchJson;
  /** How many of the data source's documents the change tracking has seen (a reset sets it to 0). */
  processed: number;
  /** Newest first, as Azure lists `executionHistory`. */
  history: IndexerExecution[];
}

export interface SearchIndex {
  definition: SearchJson;
  /** Documents by key. */
  documents: Record<string, SearchJson>;
}

export interface SearchDataSource {
  definition: SearchJson;
  /** What the source holds (a blob container's documents, as the scenario gives them), in order. */
  documents: SearchJson[];
}

export interface SearchService extends ArmResource {
  /** `free`, `basic`, `standard`, … */
  sku: string;
  replicaCount: number;
  partitionCount: number;
  hostingMode: string;
  tags: Record<string, string>;
  systemPrincipalId?: string;
  /** ARM ids of attached user-assigned identities. */
  userAssigned: string[];
  createdAt: number;
  /** By lower-cased name. */
  skillsets: Record<string, SearchJson>;
  indexes: Record<string, SearchIndex>;
  indexers: Record<string, SearchIndexer>;
  dataSources: Record<string, SearchDataSource>;
  /** Bumped on every write: the `@odata.etag` of what it wrote. */
  etag: number;
}

export function searchServiceId(subscriptionId: string, rg: string, name: string): string {
  return `/subscriptions/${subscriptionId}/resourceGroups/${rg}/providers/Microsoft.Search/searchServices/${name}`;
}

/** Where a service's data plane answers on the simulator's listener. */
export const SEARCH_PATH = '/search';
export const searchEndpoint = (baseUrl: string, name: string) => `${baseUrl}${SEARCH_PATH}/${name}/`;

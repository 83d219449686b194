import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * Sentinel's custom search attributes, so the Temporal Web UI and `temporal workflow list`
 * can filter plans and rollouts by workload. Registered on the server by temporal/setup.ts.
 */
export const SearchAttributes = {
  cluster: defineSearchAttributeKey('SentinelCluster', SearchAttributeType.KEYWORD),
  namespace: defineSearchAttributeKey('SentinelNamespace', SearchAttributeType.KEYWORD),
  workload: defineSearchAttributeKey('SentinelWorkload', SearchAttributeType.KEYWORD),
  kind: defineSearchAttributeKey('SentinelKind', SearchAttributeType.KEYWORD),
  phase: defineSearchAttributeKey('SentinelPhase', SearchAttributeType.KEYWORD),
  verb: defineSearchAttributeKey('SentinelVerb', SearchAttributeType.KEYWORD_LIST),
  step: defineSearchAttributeKey('SentinelStep', SearchAttributeType.INT),
} as const;

/** Name → server type, as `temporal operator search-attribute create` wants them. */
export const SEARCH_ATTRIBUTE_TYPES: Record<string, 'Keyword' | 'KeywordList' | 'Int'> = {
  SentinelCluster: 'Keyword',
  SentinelNamespace: 'Keyword',
  SentinelWorkload: 'Keyword',
  SentinelKind: 'Keyword',
  SentinelPhase: 'Keyword',
  SentinelVerb: 'KeywordList',
  SentinelStep: 'Int',
};

/**
 * Kinds of caller a plan can name, and what each allows: its name rule and its ways to switch. App Service is the
 * first kind; Functions, Container Apps, AI Search and Machine Learning connections follow.
 */
export const TARGET_KINDS = {
  'app-service': {
    title: 'an App Service app',
    name: /^[a-zA-Z0-9][a-zA-Z0-9-]{0,58}[a-zA-Z0-9]$/,
    nameRule: 'an App Service app name (2–60 letters, digits or hyphens)',
    strategies: ['in-place', 'slot-swap'],
  },
} as const;

export type TargetKind = keyof typeof TARGET_KINDS;
export const TARGET_KIND_NAMES = Object.keys(TARGET_KINDS) as [TargetKind, ...TargetKind[]];
export const DEFAULT_TARGET_KIND: TargetKind = 'app-service';

/** The caller a plan migrates. */
export interface TargetSpec {
  readonly kind: TargetKind;
  readonly resourceGroup: string;
  readonly name: string;
  readonly slot?: string;
}

/**
 * The target of a plan, also of one recorded before plans named a kind (its `app` is an App Service app): workflow
 * code replays such plans from history, so it reads the target only through this.
 */
export function targetOf(
  plan: { readonly target?: TargetSpec } | { readonly app?: Omit<TargetSpec, 'kind'> },
): TargetSpec {
  if ('target' in plan && plan.target) return plan.target;
  const app = 'app' in plan ? plan.app : undefined;
  if (!app) throw new Error('the plan names no target');
  return { kind: DEFAULT_TARGET_KIND, ...app };
}

/** "claims-bot" or "claims-bot/staging". */
export function targetLabel(target: Pick<TargetSpec, 'name' | 'slot'>): string {
  return target.slot ? `${target.name}/${target.slot}` : target.name;
}

/** ARM id of a target: `/subscriptions/…/providers/Microsoft.Web/sites/<name>[/slots/<slot>]` for App Service. */
export function targetResourceId(
  subscriptionId: string,
  target: Pick<TargetSpec, 'resourceGroup' | 'name' | 'slot'> & { readonly kind?: TargetKind },
): string {
  const kind = target.kind ?? DEFAULT_TARGET_KIND;
  switch (kind) {
    case 'app-service': {
      const base = `/subscriptions/${subscriptionId}/resourceGroups/${target.resourceGroup}/providers/Microsoft.Web/sites/${target.name}`;
      return target.slot ? `${base}/slots/${target.slot}` : base;
    }
  }
}

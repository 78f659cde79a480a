/**
 * Azure RBAC as the simulator enforces it: the built-in role definitions the cutover touches (real GUIDs, names
 * and permission lists from Microsoft's built-in roles reference), Azure's wildcard matching of actions, and
 * scope inheritance (an assignment at a scope applies to every child scope).
 */

export interface Permission {
  readonly actions: readonly string[];
  readonly notActions: readonly string[];
  readonly dataActions: readonly string[];
  readonly notDataActions: readonly string[];
}

export interface RoleDefinition {
  readonly id: string; // GUID
  readonly roleName: string;
  readonly description: string;
  readonly permissions: readonly Permission[];
}

const role = (
  id: string,
  roleName: string,
  description: string,
  p: Partial<Permission> & Pick<Permission, 'actions'>,
): RoleDefinition => ({
  id,
  roleName,
  description,
  permissions: [{ notActions: [], dataActions: [], notDataActions: [], ...p }],
});

/** The control-plane actions every Key Vault data role but Secrets User carries (Microsoft's built-in role list). */
const KEY_VAULT_READ_ACTIONS = [
  'Microsoft.Authorization/*/read',
  'Microsoft.Insights/alertRules/*',
  'Microsoft.Resources/deployments/*',
  'Microsoft.Resources/subscriptions/resourceGroups/read',
  'Microsoft.Support/*',
  'Microsoft.KeyVault/checkNameAvailability/read',
  'Microsoft.KeyVault/deletedVaults/read',
  'Microsoft.KeyVault/locations/*/read',
  'Microsoft.KeyVault/vaults/*/read',
  'Microsoft.KeyVault/operations/read',
];

export const BUILT_IN_ROLES: readonly RoleDefinition[] = [
  role(
    '8e3af657-a8ff-443c-a75c-2fe8c4bcb635',
    'Owner',
    'Grants full access to manage all resources, including the ability to assign roles in Azure RBAC.',
    {
      actions: ['*'],
    },
  ),
  role(
    'b24988ac-6180-42a0-ab88-20f7382dd24c',
    'Contributor',
    'Grants full access to manage all resources, but does not allow you to assign roles in Azure RBAC, manage assignments in Azure Blueprints, or share image galleries.',
    {
      actions: ['*'],
      notActions: [
        'Microsoft.Authorization/*/Delete',
        'Microsoft.Authorization/*/Write',
        'Microsoft.Authorization/elevateAccess/Action',
        'Microsoft.Blueprint/blueprintAssignments/write',
        'Microsoft.Blueprint/blueprintAssignments/delete',
        'Microsoft.Compute/galleries/share/action',
        'Microsoft.Purview/consents/write',
        'Microsoft.Purview/consents/delete',
      ],
    },
  ),
  role(
    'acdd72a7-3385-48ef-bd42-f606fba81ae7',
    'Reader',
    'View all resources, but does not allow you to make any changes.',
    {
      actions: ['*/read'],
    },
  ),
  role(
    '43d0d8ad-25c7-4714-9337-8ba259a9fe05',
    'Monitoring Reader',
    'Can read all monitoring data (metrics, logs, etc.). See also Get started with roles, permissions, and security with Azure Monitor.',
    {
      actions: ['*/read', 'Microsoft.OperationalInsights/workspaces/search/action', 'Microsoft.Support/*'],
    },
  ),
  role(
    '73c42c96-874c-492b-b04d-ab87d138a893',
    'Log Analytics Reader',
    'Log Analytics Reader can view and search all monitoring data as well as and view monitoring settings, including viewing the configuration of Azure diagnostics on all Azure resources.',
    {
      actions: [
        '*/read',
        'Microsoft.OperationalInsights/workspaces/analytics/query/action',
        'Microsoft.OperationalInsights/workspaces/search/action',
        'Microsoft.Support/*',
      ],
      notActions: ['Microsoft.OperationalInsights/workspaces/sharedKeys/read'],
    },
  ),
  role(
    '18d7d88d-d35e-4fb5-a5c3-7773c20a72d9',
    'User Access Administrator',
    'Lets you manage user access to Azure resources.',
    {
      actions: ['*/read', 'Microsoft.Authorization/*', 'Microsoft.Support/*'],
    },
  ),
  role(
    'f58310d9-a9f6-439a-9e8d-f62e7b41a168',
    'Role Based Access Control Administrator',
    'Manage access to Azure resources by assigning roles using Azure RBAC. This role does not allow you to manage access using other ways, such as Azure Policy.',
    {
      actions: [
        'Microsoft.Authorization/roleAssignments/write',
        'Microsoft.Authorization/roleAssignments/delete',
        '*/read',
        'Microsoft.Support/*',
      ],
    },
  ),
  role(
    'de139f84-1756-47ae-9be6-808fbbe84772',
    'Website Contributor',
    'Lets you manage websites (not web plans), but not access to them.',
    {
      actions: [
        'Microsoft.Authorization/*/read',
        'Microsoft.Insights/alertRules/*',
        'Microsoft.Insights/components/*',
        'Microsoft.ResourceHealth/availabilityStatuses/read',
        'Microsoft.Resources/deployments/*',
        'Microsoft.Resources/subscriptions/resourceGroups/read',
        'Microsoft.Support/*',
        'Microsoft.Web/certificates/*',
        'Microsoft.Web/listSitesAssignedToHostName/read',
        'Microsoft.Web/serverFarms/join/action',
        'Microsoft.Web/serverFarms/read',
        'Microsoft.Web/sites/*',
      ],
    },
  ),
  role(
    '358470bc-b998-42bd-ab17-a7e34c199c0f',
    'Container Apps Contributor',
    'Full management of Container Apps, including creation, deletion, and updates.',
    {
      actions: [
        'Microsoft.App/containerApps/*',
        'Microsoft.App/managedEnvironments/read',
        'Microsoft.App/managedEnvironments/join/action',
        'Microsoft.App/locations/*',
        'Microsoft.Authorization/*/read',
        'Microsoft.Insights/alertRules/*',
        'Microsoft.Resources/deployments/*',
        'Microsoft.Resources/subscriptions/resourceGroups/read',
        'Microsoft.Support/*',
      ],
    },
  ),
  role('f1a07417-d97a-45cb-824c-7a7467783830', 'Managed Identity Operator', 'Read and Assign User Assigned Identity', {
    actions: [
      'Microsoft.ManagedIdentity/userAssignedIdentities/*/read',
      'Microsoft.ManagedIdentity/userAssignedIdentities/*/assign/action',
      'Microsoft.Authorization/*/read',
      'Microsoft.Insights/alertRules/*',
      'Microsoft.Resources/subscriptions/resourceGroups/read',
      'Microsoft.Resources/deployments/*',
      'Microsoft.Support/*',
    ],
  }),
  role(
    '5e0bd9bd-7b93-4f28-af87-19fc36ad61bd',
    'Cognitive Services OpenAI User',
    'Read access to view files, models, deployments. The ability to create completion and embedding calls.',
    {
      actions: [
        'Microsoft.CognitiveServices/*/read',
        'Microsoft.Authorization/roleAssignments/read',
        'Microsoft.Authorization/roleDefinitions/read',
      ],
      dataActions: [
        'Microsoft.CognitiveServices/accounts/OpenAI/*/read',
        'Microsoft.CognitiveServices/accounts/OpenAI/engines/completions/action',
        'Microsoft.CognitiveServices/accounts/OpenAI/engines/search/action',
        'Microsoft.CognitiveServices/accounts/OpenAI/engines/generate/action',
        'Microsoft.CognitiveServices/accounts/OpenAI/deployments/search/action',
        'Microsoft.CognitiveServices/accounts/OpenAI/deployments/completions/action',
        'Microsoft.CognitiveServices/accounts/OpenAI/deployments/chat/completions/action',
        'Microsoft.CognitiveServices/accounts/OpenAI/deployments/extensions/chat/completions/action',
        'Microsoft.CognitiveServices/accounts/OpenAI/deployments/embeddings/action',
        'Microsoft.CognitiveServices/accounts/OpenAI/images/generations/action',
        'Microsoft.CognitiveServices/accounts/OpenAI/responses/*',
      ],
    },
  ),
  role(
    'a001fd3d-188f-4b5d-821b-7da978bf7442',
    'Cognitive Services OpenAI Contributor',
    'Full access including the ability to fine-tune, deploy and generate text',
    {
      actions: [
        'Microsoft.CognitiveServices/*/read',
        'Microsoft.CognitiveServices/accounts/deployments/write',
        'Microsoft.CognitiveServices/accounts/deployments/delete',
        'Microsoft.CognitiveServices/accounts/raiPolicies/read',
        'Microsoft.CognitiveServices/accounts/raiPolicies/write',
        'Microsoft.CognitiveServices/accounts/raiPolicies/delete',
        'Microsoft.CognitiveServices/accounts/commitmentplans/read',
        'Microsoft.CognitiveServices/accounts/commitmentplans/write',
        'Microsoft.CognitiveServices/accounts/commitmentplans/delete',
        'Microsoft.Authorization/roleAssignments/read',
        'Microsoft.Authorization/roleDefinitions/read',
        'Microsoft.Insights/alertRules/read',
      ],
      dataActions: ['Microsoft.CognitiveServices/accounts/OpenAI/*'],
    },
  ),
  role(
    'a97b65f3-24c7-4388-baec-2e87135dc908',
    'Cognitive Services User',
    'Lets you read and list keys of Cognitive Services.',
    {
      actions: [
        'Microsoft.CognitiveServices/*/read',
        'Microsoft.CognitiveServices/accounts/listkeys/action',
        'Microsoft.Insights/alertRules/read',
        'Microsoft.Insights/diagnosticSettings/read',
        'Microsoft.Insights/logDefinitions/read',
        'Microsoft.Insights/metricdefinitions/read',
        'Microsoft.Insights/metrics/read',
        'Microsoft.ResourceHealth/availabilityStatuses/read',
        'Microsoft.Resources/deployments/operations/read',
        'Microsoft.Resources/subscriptions/operationresults/read',
        'Microsoft.Resources/subscriptions/read',
        'Microsoft.Resources/subscriptions/resourceGroups/read',
        'Microsoft.Support/*',
      ],
      dataActions: ['Microsoft.CognitiveServices/*'],
    },
  ),
  role(
    '25fbc0a9-bd7c-42a3-aa1a-3b75d497ee68',
    'Cognitive Services Contributor',
    'Lets you create, read, update, delete and manage keys of Cognitive Services.',
    {
      actions: [
        'Microsoft.Authorization/*/read',
        'Microsoft.CognitiveServices/*',
        'Microsoft.Features/features/read',
        'Microsoft.Features/providers/features/read',
        'Microsoft.Features/providers/features/register/action',
        'Microsoft.Insights/alertRules/*',
        'Microsoft.Insights/diagnosticSettings/*',
        'Microsoft.Insights/logDefinitions/read',
        'Microsoft.Insights/metricdefinitions/read',
        'Microsoft.Insights/metrics/read',
        'Microsoft.ResourceHealth/availabilityStatuses/read',
        'Microsoft.Resources/deployments/*',
        'Microsoft.Resources/deployments/operations/read',
        'Microsoft.Resources/subscriptions/operationresults/read',
        'Microsoft.Resources/subscriptions/read',
        'Microsoft.Resources/subscriptions/resourceGroups/deployments/*',
        'Microsoft.Resources/subscriptions/resourceGroups/read',
        'Microsoft.Support/*',
      ],
    },
  ),
  role(
    '4633458b-17de-408a-b874-0445c86b69e6',
    'Key Vault Secrets User',
    "Read secret contents. Only works for key vaults that use the 'Azure role-based access control' permission model.",
    {
      actions: [],
      dataActions: [
        'Microsoft.KeyVault/vaults/secrets/getSecret/action',
        'Microsoft.KeyVault/vaults/secrets/readMetadata/action',
      ],
    },
  ),
  role(
    'b86a8fe4-44ce-4948-aee5-eccb2c155cd7',
    'Key Vault Secrets Officer',
    "Perform any action on the secrets of a key vault, except manage permissions. Only works for key vaults that use the 'Azure role-based access control' permission model.",
    {
      actions: KEY_VAULT_READ_ACTIONS,
      dataActions: ['Microsoft.KeyVault/vaults/secrets/*'],
    },
  ),
  role(
    '21090545-7ca7-4776-b22c-e363652d74d2',
    'Key Vault Reader',
    "Read metadata of key vaults and its certificates, keys, and secrets. Cannot read sensitive values such as secret contents or key material. Only works for key vaults that use the 'Azure role-based access control' permission model.",
    {
      actions: KEY_VAULT_READ_ACTIONS,
      dataActions: ['Microsoft.KeyVault/vaults/*/read', 'Microsoft.KeyVault/vaults/secrets/readMetadata/action'],
    },
  ),
  role(
    '00482a5a-887f-4fb3-b363-3b7fe8e74483',
    'Key Vault Administrator',
    "Perform all data plane operations on a key vault and all objects in it, including certificates, keys, and secrets. Cannot manage key vault resources or manage role assignments. Only works for key vaults that use the 'Azure role-based access control' permission model.",
    {
      actions: KEY_VAULT_READ_ACTIONS,
      dataActions: ['Microsoft.KeyVault/vaults/*'],
    },
  ),
  role(
    'f6c7c914-8db3-469d-8ca1-694a8f32e121',
    'AzureML Data Scientist',
    'Can perform all actions within an Azure Machine Learning workspace, except for creating or deleting compute resources and modifying the workspace itself.',
    {
      actions: [
        'Microsoft.MachineLearningServices/workspaces/*/read',
        'Microsoft.MachineLearningServices/workspaces/*/action',
        'Microsoft.MachineLearningServices/workspaces/*/delete',
        'Microsoft.MachineLearningServices/workspaces/*/write',
      ],
      notActions: [
        'Microsoft.MachineLearningServices/workspaces/delete',
        'Microsoft.MachineLearningServices/workspaces/write',
        'Microsoft.MachineLearningServices/workspaces/computes/*/write',
        'Microsoft.MachineLearningServices/workspaces/computes/*/delete',
        'Microsoft.MachineLearningServices/workspaces/computes/listKeys/action',
        'Microsoft.MachineLearningServices/workspaces/listKeys/action',
      ],
    },
  ),
  role(
    '7ca78c08-252a-4471-8644-bb5ff32d4ba0',
    'Search Service Contributor',
    'Lets you manage Search services, but not access to them.',
    {
      actions: [
        'Microsoft.Authorization/*/read',
        'Microsoft.Insights/alertRules/*',
        'Microsoft.Resources/deployments/*',
        'Microsoft.Resources/subscriptions/resourceGroups/read',
        'Microsoft.Search/searchServices/*',
        'Microsoft.Support/*',
      ],
    },
  ),
  role(
    '1407120a-92aa-4202-b7e9-c0e197c71c8f',
    'Search Index Data Reader',
    'Grants read access to Azure Cognitive Search index data.',
    {
      actions: [],
      dataActions: ['Microsoft.Search/searchServices/indexes/documents/read'],
    },
  ),
];

export function findRole(idOrName: string): RoleDefinition | undefined {
  const key = idOrName.toLowerCase();
  const guid = key.split('/').pop() ?? key;
  return BUILT_IN_ROLES.find((r) => r.id === guid || r.roleName.toLowerCase() === key);
}

const patternCache = new Map<string, RegExp>();

/**
 * Azure's action wildcard: a star matches any run of characters, and a star between two slashes also matches a
 * single slash, so `userAssignedIdentities/STAR/assign/action` covers `userAssignedIdentities/assign/action`.
 * Case-insensitive.
 */
export function actionMatches(pattern: string, action: string): boolean {
  let re = patternCache.get(pattern);
  if (!re) {
    const escaped = pattern
      .split('/*/')
      .map((part) =>
        part
          .split('*')
          .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
          .join('.*'),
      )
      .join('/(?:.*/)?');
    re = new RegExp(`^${escaped}$`, 'i');
    patternCache.set(pattern, re);
  }
  return re.test(action);
}

/** Whether one role definition grants `action` (control plane) or the data action. */
export function roleGrants(def: RoleDefinition, action: string, data: boolean): boolean {
  return def.permissions.some((p) => {
    const allow = data ? p.dataActions : p.actions;
    const deny = data ? p.notDataActions : p.notActions;
    return allow.some((a) => actionMatches(a, action)) && !deny.some((a) => actionMatches(a, action));
  });
}

/** An assignment at `assignmentScope` applies to `scope` when it is the same scope or an ancestor. */
export function scopeCovers(assignmentScope: string, scope: string): boolean {
  const a = assignmentScope.replace(/\/+$/, '').toLowerCase();
  const s = scope.replace(/\/+$/, '').toLowerCase();
  return a === '' || a === s || s.startsWith(`${a}/`);
}

export function isGuid(s: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s);
}

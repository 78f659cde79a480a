/**
 * Azure Machine Learning workspaces and their connections through `@azure/arm-machinelearning`. The package's
 * newest release speaks api-version 2022-10-01, which predates the `ApiKey` and `AAD` connection auth types and the
 * `listsecrets` action, and its serializer drops a connection's `credentials` and `metadata`. So the client's
 * requests carry a newer api-version (a pipeline policy), gets and lists go through its typed operations (their
 * deserializer keeps every field), and a connection's create and `listsecrets` go through the same client's pipeline
 * (authentication, retries, the ARM governor) with the body as Azure defines it.
 */
import { AzureMachineLearningWorkspaces } from '@azure/arm-machinelearning';
import type { TokenCredential } from '@azure/core-auth';
import { type PipelinePolicy, RestError, createHttpHeaders, createPipelineRequest } from '@azure/core-rest-pipeline';

/** The first stable api-version with `ApiKey` / `AAD` connections and `listsecrets`, and what the simulator serves. */
export const ML_API_VERSION = '2024-10-01';

/** A connection as ARM answers it (`properties` of WorkspaceConnectionPropertiesV2, the newer fields included). */
export interface MlConnectionResource {
  readonly id?: string;
  readonly name?: string;
  readonly properties: {
    readonly authType: string;
    readonly category?: string;
    readonly target?: string;
    readonly credentials?: Readonly<Record<string, string>>;
    readonly metadata?: Readonly<Record<string, string>>;
    readonly [field: string]: unknown;
  };
}

const apiVersionPolicy: PipelinePolicy = {
  name: 'cutoverMlApiVersion',
  sendRequest(request, next) {
    const url = new URL(request.url);
    if (url.searchParams.has('api-version')) {
      url.searchParams.set('api-version', ML_API_VERSION);
      request.url = url.toString();
    }
    return next(request);
  },
};

export class MlClient {
  readonly sdk: AzureMachineLearningWorkspaces;

  constructor(
    credential: TokenCredential,
    private readonly subscriptionId: string,
    private readonly endpoint: string,
    options: ConstructorParameters<typeof AzureMachineLearningWorkspaces>[2],
  ) {
    this.sdk = new AzureMachineLearningWorkspaces(credential, subscriptionId, {
      ...options,
      additionalPolicies: [...(options?.additionalPolicies ?? []), { policy: apiVersionPolicy, position: 'perCall' }],
    });
  }

  private url(resourceGroup: string, workspace: string, suffix: string): string {
    const base = this.endpoint.replace(/\/+$/, '');
    return `${base}/subscriptions/${this.subscriptionId}/resourceGroups/${encodeURIComponent(resourceGroup)}/providers/Microsoft.MachineLearningServices/workspaces/${encodeURIComponent(workspace)}/connections/${suffix}?api-version=${ML_API_VERSION}`;
  }

  private async send(method: 'PUT' | 'POST', url: string, body?: unknown): Promise<MlConnectionResource> {
    const request = createPipelineRequest({
      url,
      method,
      ...(body === undefined
        ? {}
        : { body: JSON.stringify(body), headers: createHttpHeaders({ 'content-type': 'application/json' }) }),
    });
    const response = await this.sdk.sendRequest(request);
    const parsed = response.bodyAsText ? (JSON.parse(response.bodyAsText) as unknown) : undefined;
    if (response.status >= 400) {
      const error = (parsed as { error?: { code?: string; message?: string } } | undefined)?.error;
      throw new RestError(error?.message ?? `${method} ${new URL(url).pathname} answered ${response.status}`, {
        ...(error?.code ? { code: error.code } : {}),
        statusCode: response.status,
        request,
        response,
      });
    }
    return parsed as MlConnectionResource;
  }

  /** The connection without its credentials. */
  async getConnection(resourceGroup: string, workspace: string, name: string): Promise<MlConnectionResource> {
    return (await this.sdk.workspaceConnections.get(resourceGroup, workspace, name)) as unknown as MlConnectionResource;
  }

  async *listConnections(resourceGroup: string, workspace: string): AsyncIterable<MlConnectionResource> {
    for await (const c of this.sdk.workspaceConnections.list(resourceGroup, workspace))
      yield c as unknown as MlConnectionResource;
  }

  /** The connection with its credentials (`Microsoft.MachineLearningServices/workspaces/connections/listsecrets/action`). */
  listSecrets(resourceGroup: string, workspace: string, name: string): Promise<MlConnectionResource> {
    return this.send('POST', this.url(resourceGroup, workspace, `${encodeURIComponent(name)}/listsecrets`));
  }

  /** Creates or replaces the connection: its `properties` whole. */
  createConnection(
    resourceGroup: string,
    workspace: string,
    name: string,
    properties: MlConnectionResource['properties'],
  ): Promise<MlConnectionResource> {
    return this.send('PUT', this.url(resourceGroup, workspace, encodeURIComponent(name)), { properties });
  }
}

export function createMlClient(
  credential: TokenCredential,
  subscriptionId: string,
  endpoint: string,
  options: ConstructorParameters<typeof AzureMachineLearningWorkspaces>[2],
): MlClient {
  return new MlClient(credential, subscriptionId, endpoint, { ...options, endpoint });
}

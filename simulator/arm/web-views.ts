/**
 * The wire shapes of Microsoft.Web sites and slots: the site resource (GetWebApp.json's properties plus the roots
 * real App Service returns beyond the spec), its `siteConfig` as GET site answers it (mostly null: the values live
 * in `GET …/config/web`), and the configuration resource itself (GetSiteConfig.json).
 */
import { createHash } from 'node:crypto';
import { type Site, type SlotState, PRODUCTION, key, slotResourceId } from '../model';
import { type ArmContext } from './router';
import { identityView as holderIdentityView } from './managed-identity';
import { outboundIps } from '../monitor';
import { farmOf, skuInfo } from '../skus';

export const DEFAULT_SITE_KIND = 'app,linux';

export const siteKind = (site: Site) => site.kind ?? DEFAULT_SITE_KIND;
const isLinux = (site: Site) => siteKind(site).split(',').includes('linux');

function hostName(ctx: ArmContext, site: Site, slot: string): string {
  return ctx.core.siteUrl(site, slot).replace(/^https:\/\//, '');
}

export function identityView(ctx: ArmContext, slot: SlotState) {
  return holderIdentityView(ctx, slot);
}

/** The configuration values (what `GET …/config/web` answers). */
function configValues(site: Site) {
  const linux = isLinux(site);
  return {
    acrUseManagedIdentityCreds: false,
    alwaysOn: true,
    appCommandLine: '',
    autoHealEnabled: false,
    azureStorageAccounts: {},
    defaultDocuments: ['Default.htm', 'Default.html', 'index.htm', 'index.html', 'hostingstart.html'],
    detailedErrorLoggingEnabled: false,
    ftpsState: 'Disabled',
    functionAppScaleLimit: 0,
    functionsRuntimeScaleMonitoringEnabled: false,
    healthCheckPath: null,
    http20Enabled: true,
    httpLoggingEnabled: false,
    ipSecurityRestrictions: [
      { ipAddress: 'Any', action: 'Allow', priority: 2147483647, name: 'Allow all', description: 'Allow all access' },
    ],
    ipSecurityRestrictionsDefaultAction: 'Allow',
    linuxFxVersion: linux ? 'NODE|20-lts' : '',
    loadBalancing: 'LeastRequests',
    logsDirectorySizeLimit: 35,
    managedPipelineMode: 'Integrated',
    minTlsVersion: '1.2',
    minimumElasticInstanceCount: 0,
    netFrameworkVersion: 'v4.0',
    nodeVersion: linux ? '' : '~20',
    numberOfWorkers: 1,
    phpVersion: '',
    powerShellVersion: '',
    publicNetworkAccess: 'Enabled',
    pythonVersion: '',
    remoteDebuggingEnabled: false,
    requestTracingEnabled: false,
    scmIpSecurityRestrictions: [
      { ipAddress: 'Any', action: 'Allow', priority: 2147483647, name: 'Allow all', description: 'Allow all access' },
    ],
    scmIpSecurityRestrictionsDefaultAction: 'Allow',
    scmIpSecurityRestrictionsUseMain: false,
    scmMinTlsVersion: '1.2',
    use32BitWorkerProcess: !linux,
    virtualApplications: [{ physicalPath: 'site\\wwwroot', preloadEnabled: true, virtualPath: '/' }],
    vnetName: '',
    vnetPrivatePortsCount: 0,
    vnetRouteAllEnabled: false,
    webSocketsEnabled: false,
    windowsFxVersion: null,
  };
}

/** Fields of `siteConfig` that GET site fills; Azure answers every other one null there. */
const FILLED_ON_GET_SITE = new Set([
  'numberOfWorkers',
  'linuxFxVersion',
  'acrUseManagedIdentityCreds',
  'alwaysOn',
  'http20Enabled',
  'functionAppScaleLimit',
  'minimumElasticInstanceCount',
]);

function siteConfigOnGet(site: Site) {
  return Object.fromEntries(
    Object.entries(configValues(site)).map(([k, v]) => [k, FILLED_ON_GET_SITE.has(k) ? v : null]),
  );
}

/** `GET …/config/web` (WebApps_GetConfiguration[Slot]). */
export function configView(site: Site, slotName: string) {
  const isSlot = slotName !== PRODUCTION;
  return {
    id: `${slotResourceId(site, slotName)}/config/web`,
    name: 'web',
    type: isSlot ? 'Microsoft.Web/sites/slots/config' : 'Microsoft.Web/sites/config',
    kind: siteKind(site),
    location: site.location,
    properties: configValues(site),
  };
}

function sslState(name: string, hostType: 'Standard' | 'Repository') {
  return {
    name,
    sslState: 'Disabled',
    ipBasedSslResult: null,
    virtualIP: null,
    virtualIPv6: null,
    thumbprint: null,
    certificateResourceId: null,
    toUpdate: null,
    toUpdateIpBasedSsl: null,
    ipBasedSslState: 'NotConfigured',
    hostType,
  };
}

/** The latest finished swap that touched this site, as `slotSwapStatus`. */
function swapStatus(ctx: ArmContext, site: Site) {
  const swaps = Object.values(ctx.core.state.operations)
    .filter((op) => op.kind === 'slotSwap' && op.status === 'Succeeded' && key(op.resourceId).startsWith(key(site.id)))
    .sort((a, b) => (a.endedAt ?? 0) - (b.endedAt ?? 0));
  const last = swaps.at(-1);
  if (!last) return null;
  const source = /\/slots\/([^/]+)$/i.exec(last.resourceId)?.[1] ?? PRODUCTION;
  return {
    timestampUtc: new Date(last.endedAt ?? last.startedAt).toISOString(),
    sourceSlotName: source,
    destinationSlotName: last.target ?? PRODUCTION,
  };
}

/** A site or slot in the shape of GetWebApp.json / GetWebAppSlot.json, with the roots Azure adds to the spec's. */
export function siteView(ctx: ArmContext, site: Site, slotName: string) {
  const slot = site.slots[slotName];
  const isSlot = slotName !== PRODUCTION;
  const host = hostName(ctx, site, slotName);
  const identity = identityView(ctx, slot);
  const kind = siteKind(site);
  const linux = isLinux(site);
  const rg = site.resourceGroup;
  const region = site.location.replace(/\s+/g, '');
  const webSpace = `${rg}-${region}webspace${linux ? '-Linux' : ''}`;
  const stamp = `waws-prod-sim-${createHash('sha256').update(key(site.id)).digest('hex').slice(0, 3)}`;
  const farm = farmOf(ctx.core.state, site);
  const serverFarmId = farm.id;
  return {
    id: slotResourceId(site, slotName),
    name: isSlot ? `${site.name}/${slot.name}` : site.name,
    type: isSlot ? 'Microsoft.Web/sites/slots' : 'Microsoft.Web/sites',
    kind,
    location: site.location,
    tags: isSlot ? {} : { ...(site.tags ?? {}) },
    ...(identity ? { identity } : {}),
    properties: {
      name: isSlot ? `${site.name}(${slot.name})` : site.name,
      state: 'Running',
      hostNames: [host],
      webSpace,
      selfLink: `${ctx.core.baseUrl}/subscriptions/${site.subscriptionId}/webspaces/${webSpace}/sites/${site.name}`,
      repositorySiteName: site.name,
      owner: null,
      usageState: 'Normal',
      enabled: true,
      adminEnabled: true,
      afdEnabled: false,
      enabledHostNames: [host, `${host}/scm`],
      siteProperties: {
        metadata: null,
        properties: [
          { name: 'LinuxFxVersion', value: linux ? 'NODE|20-lts' : '' },
          { name: 'WindowsFxVersion', value: null },
        ],
        appSettings: null,
      },
      availabilityState: 'Normal',
      sslCertificates: null,
      csrs: [],
      cers: null,
      siteMode: null,
      hostNameSslStates: [sslState(host, 'Standard'), sslState(`${host}/scm`, 'Repository')],
      computeMode: null,
      serverFarm: null,
      serverFarmId,
      reserved: linux,
      isXenon: false,
      hyperV: false,
      lastModifiedTimeUtc: new Date(slot.lastModified).toISOString(),
      storageRecoveryDefaultState: 'Running',
      contentAvailabilityState: 'Normal',
      runtimeAvailabilityState: 'Normal',
      dnsConfiguration: {},
      vnetRouteAllEnabled: false,
      containerAllocationSubnet: null,
      useContainerLocalhostBindings: null,
      vnetImagePullEnabled: false,
      vnetContentShareEnabled: false,
      outboundVnetRouting: {
        allTraffic: false,
        applicationTraffic: false,
        backupRestoreTraffic: false,
        contentShareTraffic: false,
        imagePullTraffic: false,
        managedIdentityTraffic: false,
      },
      siteConfig: siteConfigOnGet(site),
      functionAppConfig: null,
      daprConfig: null,
      deploymentId: isSlot ? `${site.name}__${slot.name}` : site.name,
      slotName: isSlot ? slot.name : null,
      trafficManagerHostNames: null,
      sku: skuInfo(farm.sku).tier,
      scmSiteAlsoStopped: false,
      targetSwapSlot: null,
      hostingEnvironment: null,
      hostingEnvironmentProfile: null,
      clientAffinityEnabled: false,
      clientAffinityPartitioningEnabled: false,
      clientAffinityProxyEnabled: false,
      useQueryStringAffinity: false,
      blockPathTraversal: false,
      clientCertEnabled: false,
      clientCertMode: 'Required',
      clientCertExclusionPaths: null,
      clientCertExclusionEndPoints: null,
      hostNamesDisabled: false,
      ipMode: 'IPv4',
      vnetBackupRestoreEnabled: false,
      domainVerificationIdentifiers: null,
      customDomainVerificationId: createHash('sha256').update(key(site.id)).digest('hex').toUpperCase(),
      managedEnvironmentId: null,
      // GetWebApp.json shows a workload profile and resource config (Container Apps hosting); kept with its types.
      workloadProfileName: '',
      resourceConfig: { cpu: 1, memory: '2.0Gi' },
      inboundIpAddress: '127.0.0.1',
      possibleInboundIpAddresses: '127.0.0.1',
      inboundIpv6Address: '::1',
      possibleInboundIpv6Addresses: '::1',
      ftpUsername: `${site.name}\\$${site.name}`,
      ftpsHostName: `ftps://${stamp}.ftp.azurewebsites.windows.net/site/wwwroot`,
      outboundIpAddresses: outboundIps(site)[0],
      possibleOutboundIpAddresses: outboundIps(site).join(','),
      outboundIpv6Addresses: '::1',
      possibleOutboundIpv6Addresses: '::1',
      containerSize: 0,
      dailyMemoryTimeQuota: 0,
      suspendedTill: null,
      siteDisabledReason: 0,
      functionExecutionUnitsCache: null,
      maxNumberOfWorkers: null,
      homeStamp: stamp,
      cloningInfo: null,
      hostingEnvironmentId: null,
      resourceGroup: rg,
      defaultHostName: host,
      slotSwapStatus: swapStatus(ctx, site),
      httpsOnly: true,
      endToEndEncryptionEnabled: false,
      functionsRuntimeAdminIsolationEnabled: false,
      redundancyMode: 'None',
      inProgressOperationId: null,
      geoDistributions: null,
      privateEndpointConnections: [],
      publicNetworkAccess: 'Enabled',
      buildVersion: null,
      targetBuildVersion: null,
      migrationState: null,
      eligibleLogCategories:
        'AppServiceAppLogs,AppServiceAuditLogs,AppServiceConsoleLogs,AppServiceHTTPLogs,AppServiceIPSecAuditLogs,AppServicePlatformLogs,ScanLogs,AppServiceAuthenticationLogs',
      inFlightFeatures: ['SiteContainers'],
      storageAccountRequired: false,
      virtualNetworkSubnetId: null,
      keyVaultReferenceIdentity: slot.keyVaultReferenceIdentity ?? 'SystemAssigned',
      autoGeneratedDomainNameLabelScope: null,
      defaultHostNameScope: 'Global',
      privateLinkIdentifiers: null,
      sshEnabled: null,
    },
  };
}

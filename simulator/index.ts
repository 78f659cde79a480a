/**
 * The local Azure simulator: one HTTPS listener on 127.0.0.1 playing ARM (Microsoft.Web, Microsoft.CognitiveServices,
 * Microsoft.ManagedIdentity, Microsoft.Authorization), Entra ID, App Service's managed-identity endpoint, the Azure
 * OpenAI data plane and the simulated client apps, faithfully enough for the unmodified Azure SDK clients.
 * See simulator/README.md.
 */
export { startSimulator, defaultDataDir } from './server';
export type {
  ServicePrincipalCredentials,
  Simulator,
  SimulatorControl,
  SimulatorInfo,
  SimulatorStateView,
  StartSimulatorOptions,
} from './types';
export type { RequestLogEntry } from './core';
export type { Delays, Fault, FaultSpec, Profile, Throttling } from './knobs';
export type { Paging } from './arm/paging';
export type { Scenario } from './scenario-schema';
export { ScenarioError } from './scenario-schema';
export { startLoad, type LoadReport, type LoadOptions, type LoadFailure } from './loadgen';

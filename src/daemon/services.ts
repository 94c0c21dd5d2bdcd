// The services `mss-sidecar serve` can run. Each part registers its factory here.
import type { ServiceFactory } from './service.js';
import { submissionMilterFactory } from '../submission/service.js';
import { apiLpsService } from '../auth/service.js';
import { gatesServiceFactory } from '../gate/service.js';
import { metricsServiceFactory } from '../health/metrics-service.js';
import { portalServiceFactory } from '../portal/factory.js';
import { dovecotEventsFactory } from '../traces/dovecot-events-service.js';
import { clusterServiceFactory } from '../cluster/service.js';

// The cluster service first: a node takes the cluster's registry before the others read it.
export const serviceFactories: ServiceFactory[] = [
  clusterServiceFactory,
  submissionMilterFactory,
  apiLpsService,
  gatesServiceFactory,
  metricsServiceFactory,
  portalServiceFactory,
  dovecotEventsFactory,
];

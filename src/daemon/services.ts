// The services `mss-sidecar serve` can run. Each part registers its factory here.
import type { ServiceFactory } from './service.js';
import { submissionMilterFactory } from '../submission/service.js';
import { apiLpsService } from '../auth/service.js';
import { gatesServiceFactory } from '../gate/service.js';
import { metricsServiceFactory } from '../health/metrics-service.js';
import { portalServiceFactory } from '../portal/factory.js';
import { dovecotEventsFactory } from '../traces/dovecot-events-service.js';

export const serviceFactories: ServiceFactory[] = [submissionMilterFactory, apiLpsService, gatesServiceFactory, metricsServiceFactory, portalServiceFactory, dovecotEventsFactory];

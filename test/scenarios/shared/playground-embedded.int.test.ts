// The shared scenario in the playground on the embedded database (PGlite, one connection): the
// README's default path must do everything PostgreSQL does, approvals included.
import { playgroundDriver } from '../../support/scenario-playground.js';
import { describeScenario } from './scenario.js';

describeScenario(playgroundDriver({ embedded: true }));

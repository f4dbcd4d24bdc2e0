// The shared scenario in the playground: people act through its HTTP API, as the page does.
import { playgroundDriver } from '../../support/scenario-playground.js';
import { describeScenario } from './scenario.js';

describeScenario(playgroundDriver());

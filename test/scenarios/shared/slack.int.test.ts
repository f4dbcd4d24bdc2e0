// The shared scenario on Slack: Tacit's real Bolt app and WebClient against the local Slack.
import { slackDriver } from '../../support/scenario-slack.js';
import { describeScenario } from './scenario.js';

describeScenario(slackDriver());

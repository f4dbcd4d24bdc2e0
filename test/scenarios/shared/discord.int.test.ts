// The shared scenario on Discord: Tacit's real discord.js client against the local Discord.
import { discordDriver } from '../../support/scenario-discord.js';
import { describeScenario } from './scenario.js';

describeScenario(discordDriver());

/**
 * Link-preview fetchers of chat and social apps: what fetches a share link when someone pastes it
 * into Slack, Discord, WhatsApp, iMessage (which says it is facebookexternalhit and Twitterbot)…,
 * and the two big search crawlers (the pages are `noindex`, but they fetch to learn that).
 * They are shown what a browser is (the page, or its Open button), whatever `Accept` they send,
 * and their fetch is never the link's view: the person the link was meant for has not opened it.
 * Their names as each documents them. A client claiming one of these names to dodge the counter
 * gains nothing: a link with a view limit shows them its Open button, which a POST must press.
 */
const PREVIEW_AGENTS = /Slackbot|Slack-ImgProxy|Discordbot|Twitterbot|facebookexternalhit|Facebot|WhatsApp|TelegramBot|LinkedInBot|SkypeUriPreview|Mastodon\/|Pinterestbot|redditbot|Synapse \(bot|Embedly|Iframely|vkShare|Googlebot|bingbot/i;

export const isLinkPreview = (request: Request): boolean => PREVIEW_AGENTS.test(request.headers.get('user-agent') ?? '');

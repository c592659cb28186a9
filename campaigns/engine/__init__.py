"""The channel-agnostic send engine (DESIGN §5): freeze, claim, deliver, record, recover, pace.

A channel (`channel.Channel`) says which models, columns, consent and suppression kind it uses and
how one message is rendered; a delivery backend (`channel.DeliveryBackend`) says what became of
each message. The engine knows nothing else about either, so a second channel plugs in by
registering itself (`channel.register_channel`) from its AppConfig.ready().
"""

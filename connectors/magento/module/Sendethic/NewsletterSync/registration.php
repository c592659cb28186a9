<?php
/**
 * Sendethic newsletter instant add: posts each new newsletter subscription to Sendethic at once.
 */
declare(strict_types=1);

use Magento\Framework\Component\ComponentRegistrar;

ComponentRegistrar::register(ComponentRegistrar::MODULE, 'Sendethic_NewsletterSync', __DIR__);

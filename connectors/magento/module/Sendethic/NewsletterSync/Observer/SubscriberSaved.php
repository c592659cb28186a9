<?php
/**
 * On a newsletter subscription (status changed to "subscribed"), post it to Sendethic at once.
 * Failures are logged and never block the shopper: the next Sendethic sync brings the
 * subscriber in anyway.
 */
declare(strict_types=1);

namespace Sendethic\NewsletterSync\Observer;

use Magento\Framework\App\Config\ScopeConfigInterface;
use Magento\Framework\Event\Observer;
use Magento\Framework\Event\ObserverInterface;
use Magento\Framework\HTTP\Client\Curl;
use Magento\Framework\HTTP\PhpEnvironment\RemoteAddress;
use Magento\Newsletter\Model\Subscriber;
use Magento\Store\Model\ScopeInterface;
use Magento\Store\Model\StoreManagerInterface;
use Psr\Log\LoggerInterface;
use Sendethic\NewsletterSync\Model\SignedRequest;

class SubscriberSaved implements ObserverInterface
{
    private const PATH = 'sendethic/newsletter/';

    /** @var ScopeConfigInterface */
    private $config;
    /** @var Curl */
    private $curl;
    /** @var StoreManagerInterface */
    private $stores;
    /** @var RemoteAddress */
    private $remoteAddress;
    /** @var LoggerInterface */
    private $logger;

    public function __construct(
        ScopeConfigInterface $config,
        Curl $curl,
        StoreManagerInterface $stores,
        RemoteAddress $remoteAddress,
        LoggerInterface $logger
    ) {
        $this->config = $config;
        $this->curl = $curl;
        $this->stores = $stores;
        $this->remoteAddress = $remoteAddress;
        $this->logger = $logger;
    }

    public function execute(Observer $observer): void
    {
        /** @var Subscriber $subscriber */
        $subscriber = $observer->getEvent()->getSubscriber();
        if ($subscriber === null || !$subscriber->isStatusChanged()
            || (int) $subscriber->getSubscriberStatus() !== Subscriber::STATUS_SUBSCRIBED) {
            return;
        }
        $storeId = (int) $subscriber->getStoreId();
        if (!$this->config->isSetFlag(self::PATH . 'enabled', ScopeInterface::SCOPE_STORE, $storeId)) {
            return;
        }
        $endpoint = (string) $this->config->getValue(self::PATH . 'endpoint', ScopeInterface::SCOPE_STORE, $storeId);
        $secret = (string) $this->config->getValue(self::PATH . 'secret', ScopeInterface::SCOPE_STORE, $storeId);
        if ($endpoint === '' || $secret === '') {
            return;
        }
        $request = new SignedRequest(
            SignedRequest::payload(
                (string) $subscriber->getSubscriberEmail(),
                $this->stores->getStore($storeId)->getCode(),
                '',
                '',
                (string) $this->remoteAddress->getRemoteAddress()
            ),
            $secret
        );
        try {
            $this->curl->setTimeout((int) ($this->config->getValue(self::PATH . 'timeout') ?: 5));
            $this->curl->setHeaders($request->headers);
            $this->curl->post($endpoint, $request->body);
            if ($this->curl->getStatus() >= 300) {
                $this->logger->warning('Sendethic instant add refused', ['status' => $this->curl->getStatus()]);
            }
        } catch (\Exception $error) {
            $this->logger->warning('Sendethic instant add failed: ' . $error->getMessage());
        }
    }
}

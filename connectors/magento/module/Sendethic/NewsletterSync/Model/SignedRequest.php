<?php
/**
 * The request Sendethic's instant-add endpoint accepts: a JSON body, the Unix time, and the
 * hex HMAC-SHA256 of "<timestamp>.<body>" with the connection's secret. No Magento class is
 * used here, so the format can be checked with the PHP CLI alone (tests/connectors).
 */
declare(strict_types=1);

namespace Sendethic\NewsletterSync\Model;

final class SignedRequest
{
    /** @var string */
    public $body;
    /** @var array<string, string> */
    public $headers;

    /**
     * @param array<string, mixed> $payload
     */
    public function __construct(array $payload, string $secret, ?int $timestamp = null)
    {
        $time = (string) ($timestamp ?? time());
        $this->body = (string) json_encode($payload, JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES);
        $this->headers = [
            'Content-Type' => 'application/json',
            'X-Sendethic-Timestamp' => $time,
            'X-Sendethic-Signature' => hash_hmac('sha256', $time . '.' . $this->body, $secret),
        ];
    }

    /**
     * @return array<string, mixed>
     */
    public static function payload(string $email, string $storeCode, string $firstname = '', string $lastname = '', string $ip = ''): array
    {
        $payload = ['email' => $email, 'store_code' => $storeCode, 'subscribed_at' => gmdate('Y-m-d H:i:s')];
        if ($firstname !== '') {
            $payload['firstname'] = $firstname;
        }
        if ($lastname !== '') {
            $payload['lastname'] = $lastname;
        }
        if ($ip !== '') {
            $payload['ip'] = $ip;
        }
        return $payload;
    }
}

<?php
/**
 * Newsletter subscribers without a customer account, exposed to the webservice as
 * `/api/sendethic_subscribers` (PrestaShop does not expose ps_emailsubscription / ps_newsletter).
 * The module keeps this table from the newsletter hooks, with date_add/date_upd so that
 * Sendethic reads only what changed (`date=1&filter[date_upd]=[…]`).
 */
if (!defined('_PS_VERSION_')) {
    exit;
}

class SendethicGuestSubscriber extends ObjectModel
{
    public $id_shop;
    public $email;
    public $active;
    public $newsletter_date_add;
    public $ip_registration_newsletter;
    public $date_add;
    public $date_upd;

    public static $definition = array(
        'table' => 'sendethic_guest_subscriber',
        'primary' => 'id_sendethic_guest_subscriber',
        'fields' => array(
            'id_shop' => array('type' => self::TYPE_INT, 'validate' => 'isUnsignedId', 'required' => true),
            'email' => array('type' => self::TYPE_STRING, 'validate' => 'isEmail', 'required' => true, 'size' => 255),
            'active' => array('type' => self::TYPE_BOOL, 'validate' => 'isBool'),
            'newsletter_date_add' => array('type' => self::TYPE_DATE, 'validate' => 'isDateFormat'),
            'ip_registration_newsletter' => array('type' => self::TYPE_STRING, 'size' => 45),
            'date_add' => array('type' => self::TYPE_DATE, 'validate' => 'isDate'),
            'date_upd' => array('type' => self::TYPE_DATE, 'validate' => 'isDate'),
        ),
    );

    protected $webserviceParameters = array(
        'objectsNodeName' => 'sendethic_subscribers',
        'objectNodeName' => 'sendethic_subscriber',
        'fields' => array(
            'id_shop' => array('xlink_resource' => 'shops'),
        ),
    );

    /**
     * Record a subscription (or an unsubscription) by email and shop.
     */
    public static function record($email, $idShop, $active, $ip = '')
    {
        $id = (int) Db::getInstance()->getValue(
            'SELECT `id_sendethic_guest_subscriber` FROM `' . _DB_PREFIX_ . 'sendethic_guest_subscriber`'
            . " WHERE `email` = '" . pSQL($email) . "' AND `id_shop` = " . (int) $idShop
        );
        $subscriber = new self($id ? $id : null);
        $subscriber->email = $email;
        $subscriber->id_shop = (int) $idShop;
        $subscriber->active = (bool) $active;
        if ($active && !$subscriber->newsletter_date_add) {
            $subscriber->newsletter_date_add = date('Y-m-d H:i:s');
            $subscriber->ip_registration_newsletter = (string) $ip;
        }
        return $subscriber->save();
    }
}
